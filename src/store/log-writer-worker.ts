// The prediction log's single writer, in its own thread: SQLite work (and the commit) stays off
// the event loop that parses uploads.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';
import * as sql from './log-sql.js';
import type { AppendItem, AppendRequest, LabelRequest, WriterInit, WriterReply, WriterRequest } from './log-protocol.js';

const port = parentPort;
if (port === null) throw new Error('log-writer-worker must run in a worker thread');
const init = workerData as WriterInit;
const post = (m: WriterReply): void => port.postMessage(m);

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

try {
  const db = openDatabase(init.file);
  const insert = db.prepare(sql.INSERT_BATCH);
  const insertExt = db.prepare(sql.INSERT_EXT_ID);
  const bounds = db.prepare(sql.BOUNDS);
  const holding = db.prepare(sql.HOLDING_FIRST_ID).pluck();
  const dropBatches = db.prepare(sql.DROP_BATCHES);
  const dropLabels = db.prepare(sql.DROP_LABELS);
  const dropExt = db.prepare(sql.DROP_EXT_IDS);
  const setLabel = db.prepare(sql.SET_LABEL);
  const b = bounds.get() as { lo: number | null; hi: number | null };
  // Ids start at 1 and stay contiguous: the next batch starts where the last one ended.
  let nextId = b.hi ?? 1;
  let minId = b.lo ?? 1;

  const appendItem = (m: AppendItem): { first: number; count: number } => {
    const first = nextId;
    if (m.rows === 0) return { first, count: 0 };
    insert.run(
      first,
      m.rows,
      m.ts,
      m.requestId,
      m.modelVersion,
      m.nFeatures,
      init.decisionThreshold,
      init.riskHigh,
      init.riskMedium,
      bytes(m.rowIndex.subarray(0, m.rows)),
      bytes(m.features.subarray(0, m.rows * m.nFeatures)),
      bytes(m.probabilities.subarray(0, m.rows)),
      bytes(m.targets.subarray(0, m.rows)),
      m.extIds === null ? null : JSON.stringify(m.extIds.slice(0, m.rows)),
    );
    if (m.extIds !== null) {
      for (let r = 0; r < m.rows; r++) {
        const e = m.extIds[r];
        if (e !== null && e !== undefined) insertExt.run(first + r, e);
      }
    }
    nextId += m.rows;
    return { first, count: m.rows };
  };

  // Every batch waiting when the writer comes free goes into one transaction: many small
  // requests cost one commit, not one each.
  const append = db.transaction((m: AppendRequest): { results: { first: number; count: number }[]; deleted: number } => {
    const results = m.items.map(appendItem);
    let deleted = 0;
    if (nextId - minId > init.retentionRows) {
      const kept = (holding.get(nextId - init.retentionRows) as number | undefined) ?? minId;
      if (kept > minId) {
        deleted = dropBatches.run(kept).changes;
        dropLabels.run(kept);
        dropExt.run(kept);
        minId = kept;
      }
    }
    return { results, deleted };
  });

  const label = db.transaction((m: LabelRequest): number => {
    let changed = 0;
    for (let i = 0; i < m.ids.length; i++) {
      if (m.ids[i]! >= minId && m.ids[i]! < nextId) changed += setLabel.run(m.ids[i]!, m.targets[i]!, m.ts).changes;
    }
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
      const code = (err as { code?: unknown } | null)?.code;
      post({
        type: 'error',
        id: m.id,
        message: err instanceof Error ? err.message : String(err),
        code: typeof code === 'string' ? code : undefined,
      });
    }
  });
} catch (err) {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
}
