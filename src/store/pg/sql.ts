// The PostgreSQL prediction log's statements, in one place (as ../log-sql.ts for SQLite).
//
// Ordering: followers read "every batch above the last position I applied". With positions
// from a sequence that is unsafe: writer A draws 7, writer B draws 8 and commits first, a
// follower reads 8 and moves on, then A commits 7 and no follower ever reads it. So positions
// come from one row, log_head, which each append transaction updates first: the row lock is
// held until that transaction ends, and PostgreSQL makes a commit visible before it releases
// the transaction's locks. Hence position p + 1 is drawn only after p is visible (or rolled
// back, in which case p is drawn again): positions become visible in order, with no gaps, and
// "above my position" is exact. Row ids come from the same row, so they stay contiguous.
//
// The price is that append transactions in the whole cluster run one at a time, from the
// claim to the commit. Each replica already merges the batches waiting for its writer into
// one transaction (group commit), so the serialized unit is a group, and the claim is the
// transaction's first statement but is kept to the insert and commit that follow it. The
// alternative (read only below pg_snapshot_xmin, writers in parallel) adds a follow lag of the
// longest open transaction and leaves gaps that followers cannot tell from loss.
// Measured (bench/pg-log-order.ts, 2-core machine under other load, fsync off): 3 writers
// committing groups of 8 × 64 rows flat out reach 0.53 of the sequence scheme's rows/s
// (88k against 166k rows/s); with 1 writer, 0.76 (no one to wait for: the head row update,
// and noise). A writer that holds its transaction open stalls every other (the ordering test
// in test/store-pg-log.test.ts prints by how much).

/** Claims positions and row ids for a group: $1 batches, $2 rows. Locks log_head to the commit. */
export const CLAIM = `UPDATE log_head SET position = position + $1, next_id = next_id + $2
  RETURNING position - $1 AS position, next_id - $2 AS next_id`;

export const BATCH_COLUMNS = `position, first_id, rows, ts, request_id, model_version, n_features, decision_threshold, risk_high, risk_medium,
  row_index, features, probabilities, targets, ext_ids, strings`;
export const BATCH_PARAMS = 16;

/** One INSERT for a whole group of `n` batches. */
export function insertBatches(n: number): string {
  const rows: string[] = [];
  for (let b = 0; b < n; b++) {
    const p = Array.from({ length: BATCH_PARAMS }, (_, i) => `$${b * BATCH_PARAMS + i + 1}`);
    rows.push(`(${p.join(', ')})`);
  }
  return `INSERT INTO prediction_batches (${BATCH_COLUMNS}) VALUES ${rows.join(', ')}`;
}

export const INSERT_EXT_IDS = 'INSERT INTO ext_ids (id, ext_id) SELECT * FROM unnest($1::bigint[], $2::text[])';

/** Wakes followers; delivered at commit, so never before the batches are visible. */
export const CHANNEL = 'driftline_log';
export const NOTIFY = `SELECT pg_notify('${CHANNEL}', $1)`;

/** Batches after position $1, in position order, at most $2. */
export const AFTER = `SELECT ${BATCH_COLUMNS} FROM prediction_batches WHERE position > $1 ORDER BY position LIMIT $2`;
/** Batches before position $1, newest first, at most $2. */
export const BEFORE = `SELECT ${BATCH_COLUMNS} FROM prediction_batches WHERE position < $1 ORDER BY position DESC LIMIT $2`;
export const LABELS_IN = 'SELECT id, target FROM labels WHERE id >= $1 AND id < $2';
/** The batch holding row id $1 (the newest starting at or before it), as SQLite's HOLDING. */
export const HOLDING = `SELECT ${BATCH_COLUMNS} FROM prediction_batches WHERE first_id <= $1 ORDER BY first_id DESC LIMIT 1`;
/** Batches whose rows all come after row id $1, in id order, at most $2. */
export const AFTER_ID = `SELECT ${BATCH_COLUMNS} FROM prediction_batches WHERE first_id > $1 ORDER BY first_id LIMIT $2`;
export const HEAD = 'SELECT position, next_id, (SELECT first_id FROM prediction_batches ORDER BY position LIMIT 1) AS lo FROM log_head';

/** Labels rows $1 with $2 at $3, for ids that are in the log; as SQLite's SET_LABEL. */
export const SET_LABELS = `INSERT INTO labels (id, target, labelled_at)
  SELECT u.id, u.target, $3 FROM unnest($1::bigint[], $2::int[]) AS u(id, target)
  WHERE u.id >= (SELECT first_id FROM prediction_batches ORDER BY position LIMIT 1) AND u.id < (SELECT next_id FROM log_head)
  ON CONFLICT (id) DO UPDATE SET target = excluded.target, labelled_at = excluded.labelled_at`;

/** The label event of one feedback: the labels SET_LABELS applied, under a sequence from log_head. */
export const LABEL_EVENT = `WITH seq AS (UPDATE log_head SET label_seq = label_seq + 1 RETURNING label_seq)
  INSERT INTO label_events (seq, ids, targets) SELECT label_seq, $1::bigint[], $2::int[] FROM seq`;
/** Label events after sequence $1, in order, at most $2. */
export const LABEL_EVENTS_AFTER = 'SELECT seq, ids, targets FROM label_events WHERE seq > $1 ORDER BY seq LIMIT $2';
export const LABEL_SEQ = 'SELECT label_seq FROM log_head';

/** Feedback lookups, as SQLite's BY_REQUEST and BY_EXT_ID, for many keys in one read. */
export const BY_REQUESTS = 'SELECT request_id, first_id, rows, row_index FROM prediction_batches WHERE request_id = ANY($1::text[])';
export const BY_EXT_IDS = 'SELECT ext_id, max(id) AS id FROM ext_ids WHERE ext_id = ANY($1::text[]) GROUP BY ext_id';

/**
 * Waits until no append transaction holds log_head (each locks it from its claim to its end),
 * so that a transaction whose COMMIT got no answer has finished one way or the other.
 */
export const WAIT_FOR_WRITERS = 'SELECT 1 FROM log_head FOR SHARE';
export const AT_POSITION = 'SELECT request_id, first_id FROM prediction_batches WHERE position = $1';

// Retention, as the SQLite log's rule (../log-sql.ts): whole batches wholly before the batch
// holding the oldest row to keep. The deletes run in chunks, each its own short transaction,
// and never touch log_head: appends (which lock it) go on beside them.
/** The first row id of the batch holding row id $1: rows below it are deleted. */
export const HOLDING_FIRST_ID = 'SELECT first_id FROM prediction_batches WHERE first_id <= $1 ORDER BY first_id DESC LIMIT 1';
/** The oldest $2 batches wholly before row id $1. */
export const DROP_BATCHES = `DELETE FROM prediction_batches WHERE position IN
  (SELECT position FROM prediction_batches WHERE first_id < $1 ORDER BY position LIMIT $2)`;
/**
 * Labels and ext ids below row id $1, $2 at a time. A label written while its batch was being
 * deleted may land after the chunk that would have taken it: the next pass deletes it.
 */
export const DROP_LABELS = 'DELETE FROM labels WHERE id IN (SELECT id FROM labels WHERE id < $1 ORDER BY id LIMIT $2)';
export const DROP_EXT_IDS = 'DELETE FROM ext_ids WHERE id IN (SELECT id FROM ext_ids WHERE id < $1 ORDER BY id LIMIT $2)';
