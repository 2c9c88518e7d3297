import pg from 'pg';
import { DriftlineError } from '../../errors.js';
import { MIGRATION_LOCK } from './locks.js';

// Each entry upgrades the schema by one version, as in the SQLite store (db.ts, where the
// version is PRAGMA user_version): the version is the number of entries applied; never edit a
// shipped one. Here it lives in driftline_schema, a one-row table.
const MIGRATIONS: readonly string[] = [
  // The prediction log, one row per batch with its per-row values packed little-endian in
  // bytea, exactly as SQLite's prediction_batches (same encodings, read by the same rules).
  // `position` is the batch's place in the one global order every follower applies; row ids
  // (first_id … first_id + rows − 1) stay contiguous across batches as in SQLite. log_head
  // hands both out: see sql.ts for why through one locked row rather than sequences.
  `CREATE TABLE prediction_batches (
     position           BIGINT           PRIMARY KEY,
     first_id           BIGINT           NOT NULL UNIQUE,
     rows               INTEGER          NOT NULL,
     ts                 BIGINT           NOT NULL,
     request_id         TEXT             NOT NULL,
     model_version      TEXT             NOT NULL,
     n_features         INTEGER          NOT NULL,
     decision_threshold DOUBLE PRECISION NOT NULL,
     risk_high          DOUBLE PRECISION NOT NULL,
     risk_medium        DOUBLE PRECISION NOT NULL,
     row_index          BYTEA            NOT NULL, -- int32 per row: the row number in its upload
     features           BYTEA            NOT NULL, -- float32, rows × n_features
     probabilities      BYTEA            NOT NULL, -- float32 per row
     targets            BYTEA            NOT NULL, -- float64 per row: the uploaded label, NaN if none
     ext_ids            TEXT                       -- JSON array: a user id column's values, if any
   );
   CREATE INDEX prediction_batches_request ON prediction_batches (request_id);
   CREATE TABLE log_head (
     one       BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
     position  BIGINT  NOT NULL, -- the last position handed out
     next_id   BIGINT  NOT NULL  -- the first row id of the next batch
   );
   INSERT INTO log_head (position, next_id) VALUES (0, 1);
   -- Labels that arrived later (feedback), by row id; they override the uploaded one.
   CREATE TABLE labels (
     id          BIGINT  PRIMARY KEY,
     target      INTEGER NOT NULL,
     labelled_at BIGINT  NOT NULL
   );
   -- A user-supplied id column's values, by row id, for feedback that names rows by them.
   CREATE TABLE ext_ids (
     id     BIGINT PRIMARY KEY,
     ext_id TEXT   NOT NULL
   );
   CREATE INDEX ext_ids_ext_id ON ext_ids (ext_id);`,
  // The alert outbox, as SQLite's alerts and alert_deliveries (payload: the alert's JSON as
  // recorded), plus what sharing it between replicas needs: `seq` orders alerts recorded
  // within one millisecond (SQLite's rowid), and a delivery being sent records who claimed it
  // and when (database clock), so that a claim whose sender died can be taken over once it is
  // older than any send may last (outbox.ts).
  `CREATE TABLE alerts (
     id       TEXT    PRIMARY KEY,
     seq      BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
     ts       BIGINT  NOT NULL,
     rule     TEXT    NOT NULL,
     severity TEXT    NOT NULL,
     status   TEXT    NOT NULL,
     payload  TEXT    NOT NULL
   );
   CREATE INDEX alerts_ts ON alerts (ts);
   CREATE INDEX alerts_rule ON alerts (rule, seq);
   CREATE TABLE alert_deliveries (
     alert_id   TEXT        NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
     channel    TEXT        NOT NULL,
     state      TEXT        NOT NULL CHECK (state IN ('pending', 'sending', 'sent')),
     attempts   INTEGER     NOT NULL DEFAULT 0,
     next_at    BIGINT      NOT NULL,
     last_error TEXT,
     sent_at    BIGINT,
     claimed_by TEXT,
     claimed_at TIMESTAMPTZ,
     PRIMARY KEY (alert_id, channel)
   );
   CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_at);`,
  // Labels as events in their own order, so that every replica's window takes in feedback sent
  // to any replica. Their sequence is drawn from log_head, under the row lock the appends take
  // (sql.ts): events become visible in order and without gaps, like batches.
  `ALTER TABLE log_head ADD COLUMN label_seq BIGINT NOT NULL DEFAULT 0;
   CREATE TABLE label_events (
     seq     BIGINT   PRIMARY KEY,
     ids     BIGINT[] NOT NULL,
     targets INTEGER[] NOT NULL
   );`,
  // A model's string features, as SQLite's migration that added the same column: JSON, rows ×
  // the card's string features, row-major; NULL for a numeric model.
  `ALTER TABLE prediction_batches ADD COLUMN strings TEXT;`,
  // The drift history, as SQLite's drift_snapshots (snapshot: the point's JSON as written), in
  // common for every replica and written by the leader only. `replica` records which one wrote
  // a point, for audits of who led when.
  `CREATE TABLE drift_snapshots (
     id            BIGINT           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     ts            BIGINT           NOT NULL,
     window_rows   INTEGER          NOT NULL,
     share_drifted DOUBLE PRECISION NOT NULL,
     drift         BOOLEAN          NOT NULL,
     snapshot      TEXT             NOT NULL,
     replica       TEXT             NOT NULL
   );
   CREATE INDEX drift_snapshots_ts ON drift_snapshots (ts, id);`,
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

// Every replica migrates on start: the lock (MIGRATION_LOCK) makes the first one do it and the
// others wait, then find the version already reached.

/** Upgrades the schema to version `to` (the newest by default; tests stop earlier). */
export async function migrate(client: pg.ClientBase, to = MIGRATIONS.length): Promise<void> {
  for (;;) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Under the lock: two replicas creating it at once would clash in the catalog.
      await client.query(
        'CREATE TABLE IF NOT EXISTS driftline_schema (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)',
      );
      await client.query('INSERT INTO driftline_schema (version) VALUES (0) ON CONFLICT DO NOTHING');
      const v = (await client.query<{ version: number }>('SELECT version FROM driftline_schema')).rows[0]!.version;
      if (v >= to) {
        await client.query('COMMIT');
        return;
      }
      await client.query(MIGRATIONS[v]!);
      await client.query('UPDATE driftline_schema SET version = $1', [v + 1]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

/** The schema version the database is at (0 for an empty database). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query("SELECT to_regclass('driftline_schema') IS NOT NULL AS e");
  if (exists.rows[0]?.e !== true) return 0;
  const r = await client.query<{ version: number }>('SELECT version FROM driftline_schema');
  return r.rows[0]?.version ?? 0;
}

/**
 * Brings the schema up to date on a connection of its own, before a store opens its pools;
 * `what` names the store in the error (the log and the outbox both call it at start-up).
 */
export async function migrateAt(connectionString: string, what: string): Promise<void> {
  const c = new pg.Client({ connectionString });
  try {
    await c.connect();
    await migrate(c);
  } catch (err) {
    throw new DriftlineError('DL_ERR_INTERNAL', `Cannot open ${what}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    await c.end().catch(() => undefined);
  }
}
