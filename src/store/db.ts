import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

// Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped one.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE predictions (
     id            INTEGER PRIMARY KEY,
     ts            INTEGER NOT NULL,
     request_id    TEXT    NOT NULL,
     row           INTEGER NOT NULL,
     model_version TEXT    NOT NULL,
     features      BLOB    NOT NULL,
     probability   REAL    NOT NULL,
     prediction    INTEGER NOT NULL,
     risk_level    TEXT    NOT NULL,
     target        INTEGER,
     ext_id        TEXT,
     labelled_at   INTEGER
   );
   CREATE INDEX predictions_request ON predictions (request_id, row);
   CREATE INDEX predictions_ext_id ON predictions (ext_id) WHERE ext_id IS NOT NULL;
   CREATE TABLE drift_snapshots (
     id            INTEGER PRIMARY KEY,
     ts            INTEGER NOT NULL,
     window_rows   INTEGER NOT NULL,
     share_drifted REAL    NOT NULL,
     drift         INTEGER NOT NULL,
     snapshot      TEXT    NOT NULL
   );
   CREATE INDEX drift_snapshots_ts ON drift_snapshots (ts);`,
  // Alert outbox: an alert is written here first, then delivered per channel by the sender.
  `CREATE TABLE alerts (
     id          TEXT    PRIMARY KEY,
     ts          INTEGER NOT NULL,
     rule        TEXT    NOT NULL,
     severity    TEXT    NOT NULL,
     status      TEXT    NOT NULL,
     payload     TEXT    NOT NULL
   );
   CREATE INDEX alerts_ts ON alerts (ts);
   CREATE TABLE alert_deliveries (
     alert_id    TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
     channel     TEXT    NOT NULL,
     state       TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent')),
     attempts    INTEGER NOT NULL DEFAULT 0,
     next_at     INTEGER NOT NULL,
     last_error  TEXT,
     sent_at     INTEGER,
     PRIMARY KEY (alert_id, channel)
   );
   CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_at);`,
];

/**
 * Opens (creating if needed) the service database. WAL lets the dashboard's reads run beside
 * the log writer; synchronous=NORMAL in WAL keeps every committed transaction across a process
 * crash (only an OS crash or power loss can take the last ones back).
 */
export function openDatabase(file: string, opts: { readonly?: boolean } = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  db.pragma('busy_timeout = 5000');
  if (opts.readonly === true) return db;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The schema version the database is at. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
