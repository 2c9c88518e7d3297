// The prediction log's statements, in one place so that a test can check every one of them
// against the query planner: each runs per transaction or per read, on a log of up to a
// million batches, so none may scan a table.

/** Row ids of the oldest and one past the newest row. */
export const BOUNDS = `SELECT (SELECT first_id FROM prediction_batches ORDER BY first_id LIMIT 1) AS lo,
  (SELECT first_id + rows FROM prediction_batches ORDER BY first_id DESC LIMIT 1) AS hi`;

export const INSERT_BATCH = `INSERT INTO prediction_batches (first_id, rows, ts, request_id, model_version, n_features, decision_threshold, risk_high, risk_medium,
  row_index, features, probabilities, targets, ext_ids, strings)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const INSERT_EXT_ID = 'INSERT INTO ext_ids (id, ext_id) VALUES (?, ?)';
export const SET_LABEL =
  'INSERT INTO labels (id, target, labelled_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET target = excluded.target, labelled_at = excluded.labelled_at';

/** The batch holding row id ? (the newest batch starting at or before it). */
export const HOLDING = 'SELECT * FROM prediction_batches WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1';
export const HOLDING_FIRST_ID = 'SELECT first_id FROM prediction_batches WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1';
export const BEFORE = 'SELECT * FROM prediction_batches WHERE first_id < ? ORDER BY first_id DESC LIMIT 1';
export const AFTER = 'SELECT * FROM prediction_batches WHERE first_id > ? ORDER BY first_id LIMIT 1';
export const BY_REQUEST = 'SELECT first_id, rows, row_index FROM prediction_batches WHERE request_id = ?';
export const BY_EXT_ID = 'SELECT MAX(id) FROM ext_ids WHERE ext_id = ?';
export const LABELS_IN = 'SELECT id, target FROM labels WHERE id >= ? AND id < ?';

// Retention: whole batches, those wholly before the batch holding the oldest row to keep.
export const DROP_BATCHES = 'DELETE FROM prediction_batches WHERE first_id < ?';
export const DROP_LABELS = 'DELETE FROM labels WHERE id < ?';
export const DROP_EXT_IDS = 'DELETE FROM ext_ids WHERE id < ?';
