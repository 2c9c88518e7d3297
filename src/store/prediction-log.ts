import type { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker.js';
import { DriftlineError } from '../errors.js';
import { openDatabase, type Db } from './db.js';
import type { AppendItem, WriterInit, WriterReply, WriterRequest } from './log-protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;


/** One batch for the log. */
export type AppendInput = AppendItem;

/** Batches merged into one writer message (and one transaction) at most. */
const GROUP_MAX = 256;

export interface LoggedRow {
  id: number;
  ts: number;
  request_id: string;
  row: number;
  model_version: string;
  features: number[];
  probability: number;
  prediction: number;
  risk_level: string;
  target: number | null;
  ext_id: string | null;
}

interface RawLogged extends Omit<LoggedRow, 'features'> {
  features: Buffer;
}

/** A row as the drift window needs it when rebuilt from the log at start-up. */
export interface WindowRow {
  id: number;
  ts: number;
  features: Float32Array;
  probability: number;
  target: number;
}

export interface PredictionLogOptions {
  file: string;
  retentionRows: number;
  decisionThreshold: number;
  risk: { high: number; medium: number };
}

const decode = (b: Buffer): Float32Array => {
  // better-sqlite3 hands back a fresh Buffer, possibly at an unaligned offset of a pool.
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
};

/**
 * The durable prediction log. Writes go through one writer thread (in order, one transaction
 * per batch); reads use a read-only connection on the calling thread, which WAL lets run
 * beside the writer.
 */
export class PredictionLog {
  private readonly pending = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: Error) => void }>();
  private readonly queue: { input: AppendInput; resolve: (r: { first: number; count: number }) => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private nextId = 1;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private readonly reader: Db;

  private constructor(private readonly worker: Worker, readonly file: string) {
    this.reader = openDatabase(file, { readonly: true });
    worker.on('message', (m: WriterReply) => {
      if (m.type === 'ready' || m.type === 'fatal') return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new DriftlineError('DL_ERR_INTERNAL', `Prediction log: ${m.message}`));
      else p.resolve(m);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', () => {
      if (this.closed === undefined) this.fail(new Error('the prediction log writer exited'));
    });
  }

  static async open(opts: PredictionLogOptions): Promise<PredictionLog> {
    const init: WriterInit = {
      file: opts.file,
      retentionRows: opts.retentionRows,
      decisionThreshold: opts.decisionThreshold,
      riskHigh: opts.risk.high,
      riskMedium: opts.risk.medium,
    };
    const worker = startWorker(import.meta.url, 'log-writer-worker', { workerData: init });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: WriterReply) => {
        if (m.type === 'ready') resolve();
        else reject(new DriftlineError('DL_ERR_INTERNAL', `Cannot open the prediction log ${opts.file}: ${m.type === 'fatal' ? m.message : m.type}`));
      });
      worker.once('error', reject);
    });
    return new PredictionLog(worker, opts.file);
  }

  /**
   * Appends one batch; resolves once it is committed. While the writer is busy, batches from
   * every request queue up and then go in one message and one transaction (group commit).
   */
  append(input: AppendInput): Promise<{ first: number; count: number }> {
    if (this.closed !== undefined) return Promise.reject(new DriftlineError('DL_ERR_INTERNAL', 'The prediction log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    if (this.failure !== undefined) {
      for (const g of this.queue.splice(0)) g.reject(this.failure);
      return;
    }
    const group = this.queue.splice(0, GROUP_MAX);
    this.writing = true;
    // Queued before close(): written even while closing.
    this.send({ type: 'append', items: group.map((g) => g.input) }, true).then(
      (m) => {
        if (m.type !== 'appended') throw new DriftlineError('DL_ERR_INTERNAL', 'unexpected reply from the log writer');
        group.forEach((g, i) => g.resolve(m.results[i]!));
      },
    ).catch((err: unknown) => {
      for (const g of group) g.reject(err);
    }).finally(() => {
      this.writing = false;
      this.flush();
    });
  }

  async label(ids: number[], targets: number[]): Promise<number> {
    const m = await this.send({ type: 'label', ids, targets, ts: Date.now() });
    return m.type === 'labelled' ? m.changed : 0;
  }

  /** Rows in the log. Ids are contiguous (retention only deletes the oldest), so no scan. */
  count(): number {
    return this.reader.prepare('SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM predictions').pluck().get() as number;
  }

  /** The last `n` rows, oldest first: what the drift window held before a restart. */
  tail(n: number): WindowRow[] {
    const rows = this.reader
      .prepare('SELECT id, ts, features, probability, target FROM predictions ORDER BY id DESC LIMIT ?')
      .all(n) as { id: number; ts: number; features: Buffer; probability: number; target: number | null }[];
    rows.reverse();
    return rows.map((r) => ({ id: r.id, ts: r.ts, features: decode(r.features), probability: r.probability, target: r.target ?? Number.NaN }));
  }

  /** The newest rows, newest first. */
  recent(limit: number): LoggedRow[] {
    const rows = this.reader.prepare('SELECT * FROM predictions ORDER BY id DESC LIMIT ?').all(limit) as RawLogged[];
    return rows.map(toLogged);
  }

  /**
   * Up to `limit` rows after `afterId`, in id order. Callers page with it rather than hold a
   * cursor open, which would keep the shared read connection busy between awaits.
   */
  page(afterId: number, limit: number): LoggedRow[] {
    const rows = this.reader.prepare('SELECT * FROM predictions WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as RawLogged[];
    return rows.map(toLogged);
  }

  /** Log ids for (request_id, row) pairs; missing pairs are absent from the map. */
  findByRequestRow(pairs: readonly { requestId: string; row: number }[]): Map<string, number> {
    const stmt = this.reader.prepare('SELECT id FROM predictions WHERE request_id = ? AND row = ?').pluck();
    const out = new Map<string, number>();
    for (const p of pairs) {
      const id = stmt.get(p.requestId, p.row) as number | undefined;
      if (id !== undefined) out.set(`${p.requestId}#${p.row}`, id);
    }
    return out;
  }

  /** Log ids for user-supplied `id` values (the newest row when an id was sent twice). */
  findByExtId(ids: readonly string[]): Map<string, number> {
    const stmt = this.reader.prepare('SELECT MAX(id) FROM predictions WHERE ext_id = ?').pluck();
    const out = new Map<string, number>();
    for (const id of ids) {
      const found = stmt.get(id) as number | null;
      if (found !== null) out.set(id, found);
    }
    return out;
  }

  /** Waits for every write handed over so far, then closes both connections. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      // Batches already handed over are written first.
      while (this.failure === undefined && (this.writing || this.queue.length > 0)) await new Promise((r) => setTimeout(r, 1));
      if (this.failure === undefined) await this.send({ type: 'close' }, true).catch(() => undefined);
      this.reader.close();
      await this.worker.terminate();
    })();
    return this.closed;
  }

  private send(msg: WithoutId<WriterRequest>, closing = false): Promise<WriterReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed !== undefined && !closing) return Promise.reject(new DriftlineError('DL_ERR_INTERNAL', 'The prediction log is closed'));
    const id = this.nextId++;
    return new Promise<WriterReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }

  private fail(err: Error): void {
    this.failure ??= new DriftlineError('DL_ERR_INTERNAL', `Prediction log failed: ${err.message}`, { cause: err });
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

function toLogged(r: RawLogged): LoggedRow {
  return { ...r, features: Array.from(decode(r.features)) };
}
