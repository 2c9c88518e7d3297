import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker.js';
import { DriftlineError } from '../errors.js';
import { StoreHealth } from './health.js';
import { LogReader, type LoggedRow, type WindowRow } from './log-reader.js';
import type { AppendItem, WriterInit, WriterReply, WriterRequest } from './log-protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** One batch for the log. */
export type AppendInput = AppendItem;

/** Batches merged into one writer message (and one transaction) at most. */
const GROUP_MAX = 256;

export interface PredictionLogOptions {
  file: string;
  retentionRows: number;
  decisionThreshold: number;
  risk: { high: number; medium: number };
  /** Tells a damaged file from other failures, for reads and writes alike (one per database file). */
  health?: StoreHealth;
}

/**
 * The durable prediction log. Writes go through one writer thread (in order, one transaction
 * per batch); reads use a read-only connection on the calling thread, which WAL lets run
 * beside the writer.
 */
export class PredictionLog {
  private readonly pending = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: Error) => void }>();
  private readonly queue: { input: AppendInput; resolve: (r: { first: number; count: number }) => void; reject: (e: unknown) => void }[] =
    [];
  private writing = false;
  private nextId = 1;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private readonly reader: LogReader;

  private constructor(
    private readonly worker: Worker,
    readonly file: string,
    private readonly health: StoreHealth,
  ) {
    this.reader = health.run(() => LogReader.open(file));
    worker.on('message', (m: WriterReply) => {
      if (m.type === 'ready' || m.type === 'fatal') return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.type === 'error') {
        const failed = this.health.check(Object.assign(new Error(m.message), { code: m.code }));
        p.reject(failed instanceof DriftlineError ? failed : new DriftlineError('DL_ERR_INTERNAL', `Prediction log: ${m.message}`));
      } else p.resolve(m);
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
        else
          reject(
            new DriftlineError(
              'DL_ERR_INTERNAL',
              `Cannot open the prediction log ${opts.file}: ${m.type === 'fatal' ? m.message : m.type}`,
            ),
          );
      });
      worker.once('error', reject);
    });
    return new PredictionLog(worker, opts.file, opts.health ?? new StoreHealth(opts.file));
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
    this.send({ type: 'append', items: group.map((g) => g.input) }, true)
      .then((m) => {
        if (m.type !== 'appended') throw new DriftlineError('DL_ERR_INTERNAL', 'unexpected reply from the log writer');
        group.forEach((g, i) => g.resolve(m.results[i]!));
      })
      .catch((err: unknown) => {
        for (const g of group) g.reject(err);
      })
      .finally(() => {
        this.writing = false;
        this.flush();
      });
  }

  async label(ids: number[], targets: number[]): Promise<number> {
    const m = await this.send({ type: 'label', ids, targets, ts: Date.now() });
    return m.type === 'labelled' ? m.changed : 0;
  }

  count(): number {
    return this.health.run(() => this.reader.count());
  }

  /** The last `n` rows, oldest first: what the drift window held before a restart. */
  tail(n: number): WindowRow[] {
    return this.health.run(() => this.reader.tail(n));
  }

  /** The newest rows, newest first. */
  recent(limit: number): LoggedRow[] {
    return this.health.run(() => this.reader.recent(limit));
  }

  /** Up to `limit` rows after `afterId`, in id order (callers page with it). */
  page(afterId: number, limit: number): LoggedRow[] {
    return this.health.run(() => this.reader.page(afterId, limit));
  }

  findByRequestRow(pairs: readonly { requestId: string; row: number }[]): Map<string, number> {
    return this.health.run(() => this.reader.findByRequestRow(pairs));
  }

  findByExtId(ids: readonly string[]): Map<string, number> {
    return this.health.run(() => this.reader.findByExtId(ids));
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
