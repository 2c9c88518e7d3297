// The prediction log's single writer, in its own thread: a bulk upload appends ~1 row per µs of
// SQLite work, which would otherwise come straight off the event loop that parses uploads.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';
import type { AppendItem, AppendRequest, LabelRequest, WriterInit, WriterReply, WriterRequest } from './log-protocol.js';

const port = parentPort;
if (port === null) throw new Error('log-writer-worker must run in a worker thread');
const init = workerData as WriterInit;
const post = (m: WriterReply): void => port.postMessage(m);

// Retention deletes in chunks so that no single transaction holds the write lock for long.
const DELETE_CHUNK = 10_000;

try {
  const db = openDatabase(init.file);
  const insert = db.prepare(
    `INSERT INTO predictions (ts, request_id, row, model_version, features, probability, prediction, risk_level, target, ext_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const oldest = db.prepare('SELECT MIN(id) AS id FROM predictions').pluck();
  const deleteBelow = db.prepare('DELETE FROM predictions WHERE id < ?');
  const setLabel = db.prepare('UPDATE predictions SET target = ?, labelled_at = ? WHERE id = ?');
  let minId = (oldest.get() as number | null) ?? 1;

  const risk = (p: number): string => (p >= init.riskHigh ? 'High' : p >= init.riskMedium ? 'Medium' : 'Low');

  const appendItem = (m: AppendItem): { first: number; count: number } => {
    const f = m.nFeatures;
    const bytes = Buffer.from(m.features.buffer, m.features.byteOffset, m.features.byteLength);
    let first = -1;
    for (let r = 0; r < m.rows; r++) {
      const p = m.probabilities[r]!;
      const t = m.targets[r]!;
      const info = insert.run(
        m.ts,
        m.requestId,
        m.rowIndex[r]!,
        m.modelVersion,
        bytes.subarray(r * f * 4, (r + 1) * f * 4),
        p,
        p >= init.decisionThreshold ? 1 : 0,
        risk(p),
        Number.isNaN(t) ? null : t,
        m.extIds?.[r] ?? null,
      );
      if (r === 0) first = Number(info.lastInsertRowid);
    }
    return { first, count: m.rows };
  };

  // Every batch waiting when the writer comes free goes into one transaction: many small
  // requests cost one commit, not one each.
  const append = db.transaction((m: AppendRequest): { results: { first: number; count: number }[]; deleted: number } => {
    const results = m.items.map(appendItem);
    let deleted = 0;
    const last = results.reduce((hi, r) => (r.count > 0 ? Math.max(hi, r.first + r.count - 1) : hi), -1);
    if (last !== -1 && last - minId + 1 > init.retentionRows) {
      const keepFrom = Math.min(last - init.retentionRows + 1, minId + DELETE_CHUNK);
      deleted = deleteBelow.run(keepFrom).changes;
      minId = keepFrom;
    }
    return { results, deleted };
  });

  const label = db.transaction((m: LabelRequest): number => {
    let changed = 0;
    for (let i = 0; i < m.ids.length; i++) changed += setLabel.run(m.targets[i]!, m.ts, m.ids[i]!).changes;
    return changed;
  });

  post({ type: 'ready' });
  port.on('message', (m: WriterRequest) => {
    try {
      if (m.type === 'append') post({ type: 'appended', id: m.id, ...append(m) });
      else if (m.type === 'label') post({ type: 'labelled', id: m.id, changed: label(m) });
      else {
        db.close();
        post({ type: 'closed', id: m.id });
        port.close();
      }
    } catch (err) {
      post({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
} catch (err) {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
}
