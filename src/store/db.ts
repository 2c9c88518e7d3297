import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

// Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped one.
type Migration = string | ((db: Db) => void);

const MIGRATIONS: readonly Migration[] = [
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
  // The prediction log keeps one row per batch, its per-row values packed little-endian in
  // BLOBs: one INSERT per batch instead of one per prediction (bench: the writer thread went
  // from the bulk path's bottleneck to a few % of a core). Rows have ids first_id … first_id +
  // rows − 1, contiguous across batches. src/store/log-reader.ts decodes them.
  (db) => {
    db.exec(`CREATE TABLE prediction_batches (
     first_id           INTEGER PRIMARY KEY,
     rows               INTEGER NOT NULL,
     ts                 INTEGER NOT NULL,
     request_id         TEXT    NOT NULL,
     model_version      TEXT    NOT NULL,
     n_features         INTEGER NOT NULL,
     decision_threshold REAL    NOT NULL,
     risk_high          REAL    NOT NULL,
     risk_medium        REAL    NOT NULL,
     row_index          BLOB    NOT NULL, -- int32 per row: the row number in its upload
     features           BLOB    NOT NULL, -- float32, rows × n_features
     probabilities      BLOB    NOT NULL, -- float32 per row
     targets            BLOB    NOT NULL, -- float64 per row: the uploaded label, NaN if none
     ext_ids            TEXT              -- JSON array: a user id column's values, if any
   );
   CREATE INDEX prediction_batches_request ON prediction_batches (request_id);
   -- Labels that arrived later (feedback), by row id; they override the uploaded one.
   CREATE TABLE labels (
     id          INTEGER PRIMARY KEY,
     target      INTEGER NOT NULL,
     labelled_at INTEGER NOT NULL
   );
   -- A user-supplied id column's values, by row id, for feedback that names rows by them.
   CREATE TABLE ext_ids (
     id     INTEGER PRIMARY KEY,
     ext_id TEXT    NOT NULL
   );
   CREATE INDEX ext_ids_ext_id ON ext_ids (ext_id);`);
    movePredictionsToBatches(db);
  },
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

/** Upgrades the schema to version `to` (the newest by default; tests stop earlier). */
export function migrate(db: Db, to = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < to; v++) {
    db.transaction(() => {
      const m = MIGRATIONS[v]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The schema version the database is at. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

const int32 = (n: number): Buffer => Buffer.from(new Int32Array([n]).buffer);
const float32 = (n: number): Buffer => Buffer.from(new Float32Array([n]).buffer);
const float64 = (n: number): Buffer => Buffer.from(new Float64Array([n]).buffer);

/**
 * Rows logged before batches were packed become one-row batches with the same ids. Their
 * prediction and risk level were decided at write time under cut-offs the old rows don't
 * record, so each gets cut-offs of 0 or 2 (always or never reached) that reproduce exactly
 * what was logged. A label that came by feedback (labelled_at set) goes to `labels`.
 */
function movePredictionsToBatches(db: Db): void {
  // Written out rather than shared with the writer: a migration must not change after it shipped.
  const insert = db.prepare(
    `INSERT INTO prediction_batches (first_id, rows, ts, request_id, model_version, n_features, decision_threshold, risk_high, risk_medium,
       row_index, features, probabilities, targets, ext_ids)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertLabel = db.prepare('INSERT INTO labels (id, target, labelled_at) VALUES (?, ?, ?)');
  const insertExt = db.prepare('INSERT INTO ext_ids (id, ext_id) VALUES (?, ?)');
  interface Old {
    id: number;
    ts: number;
    request_id: string;
    row: number;
    model_version: string;
    features: Buffer;
    probability: number;
    prediction: number;
    risk_level: string;
    target: number | null;
    ext_id: string | null;
    labelled_at: number | null;
  }
  // In pages: a connection can't insert while it iterates.
  const page = db.prepare('SELECT * FROM predictions WHERE id > ? ORDER BY id LIMIT 10000');
  const move = (o: Old): void => {
    const fromFeedback = o.labelled_at !== null && o.target !== null;
    insert.run(
      o.id,
      1,
      o.ts,
      o.request_id,
      o.model_version,
      o.features.byteLength / 4,
      o.prediction === 1 ? 0 : 2,
      o.risk_level === 'High' ? 0 : 2,
      o.risk_level === 'Low' ? 2 : 0,
      int32(o.row),
      o.features,
      float32(o.probability),
      float64(o.target === null || fromFeedback ? Number.NaN : o.target),
      o.ext_id === null ? null : JSON.stringify([o.ext_id]),
    );
    if (fromFeedback) insertLabel.run(o.id, o.target, o.labelled_at);
    if (o.ext_id !== null) insertExt.run(o.id, o.ext_id);
  };
  for (let rows = page.all(0) as Old[]; rows.length > 0; rows = page.all(rows.at(-1)!.id) as Old[]) rows.forEach(move);
  db.exec('DROP TABLE predictions');
}
