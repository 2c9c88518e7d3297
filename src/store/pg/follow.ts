import pg from 'pg';
import { decode, types, type BatchRow, type CommittedBatch } from './batch.js';
import { Backoff, isConnectionFailure, type BackoffOptions } from './faults.js';
import * as sql from './sql.js';

// A read that gets no answer (a server gone without closing the socket) is abandoned after
// this and retried on a new connection; the follower's reads are a page of batches at most.
const READ_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5000;

export interface FollowOptions {
  /**
   * Reads even when no notification came, every this many ms: NOTIFY is lost while the
   * listening connection is down, and poolers in transaction mode do not carry LISTEN at all.
   */
  pollMs?: number;
  /** Listen for commit notifications (default true); without, the follower only polls. */
  listen?: boolean;
  /** Batches per read. */
  pageBatches?: number;
  /** A failed read or a lost connection (the follower retries at the next poll). */
  onError?: (err: Error) => void;
  /**
   * Positions are handed out without gaps (see sql.ts), so a batch that is not the one after
   * the last delivered means batches were removed before this follower read them (retention,
   * or a follower that started below the oldest kept position). Told here, then delivery goes on.
   */
  onGap?: (last: number, next: number) => void;
  /**
   * Told when reads start failing (with the first error) and when one succeeds again
   * (undefined). While they fail the follower retries with backoff, not at every poll.
   */
  onReachability?: (down: Error | undefined) => void;
  /** Delays between attempts while reads fail. */
  backoff?: BackoffOptions;
  /**
   * Label events (feedback sent to any replica) after sequence `after`, each once and in order,
   * to `apply`. A label only ever names a row committed before it, so the events of a read are
   * taken before its batches and applied after them: the row a label names is always there.
   */
  labels?: { after: number; apply: (ids: number[], targets: number[]) => unknown };
}

/** Label events per read. */
const LABEL_PAGE = 1000;

export const FOLLOWER_APP = 'driftline-follower';

/**
 * Delivers every committed batch after a position, in position order, each once, to one
 * callback (awaited: the next batch waits for it). Positions become visible in order (see
 * sql.ts), so reading "above the last one applied" misses none.
 */
export class Follower {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly pollMs: number;
  private readonly pageBatches: number;
  private readonly idle: (() => void)[] = [];
  private readonly backoff: Backoff;
  /** No read before this time (ms since the epoch): the backoff after a failed read. */
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failing: Error | undefined;
  /** The last label event applied. */
  private labelSeq: number;

  constructor(
    private readonly connectionString: string,
    private last: number,
    private readonly onBatch: (b: CommittedBatch) => unknown,
    private readonly opts: FollowOptions = {},
  ) {
    this.labelSeq = opts.labels?.after ?? 0;
    this.pollMs = opts.pollMs ?? 1000;
    this.pageBatches = opts.pageBatches ?? 256;
    this.backoff = new Backoff(opts.backoff);
  }

  /** The position of the last batch delivered. */
  get position(): number {
    return this.last;
  }

  /** Connects (and listens), then catches up with what is committed now. */
  async start(): Promise<void> {
    // The first catch-up is awaited as is, so that a follower that cannot read fails to start.
    this.reading = this.drain();
    try {
      await this.reading;
    } finally {
      this.reading = undefined;
    }
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    // Whatever was committed while the first read ran (and whose NOTIFY came before it).
    this.wake();
  }

  private connect(): Promise<pg.Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      // Named, so that an operator (or a test) can find followers in pg_stat_activity.
      const c = new pg.Client({
        connectionString: this.connectionString,
        types,
        application_name: FOLLOWER_APP,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: READ_TIMEOUT_MS,
      });
      c.on('error', (err) => this.lose(c, err));
      try {
        await c.connect();
        if (this.opts.listen !== false) {
          c.on('notification', () => this.wake());
          await c.query(`LISTEN ${sql.CHANNEL}`);
        }
      } catch (err) {
        void c.end().catch(() => undefined);
        throw err;
      }
      this.client = c;
      return c;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private lose(c: pg.Client, err: Error): void {
    if (this.client === c) this.client = undefined;
    void c.end().catch(() => undefined);
    if (!this.stopped) this.opts.onError?.(err);
  }

  /** Reads now, or once more after the read under way (a commit may have come during it). */
  private wake(): void {
    if (this.stopped) return;
    // Backing off after a failed read: the retry timer wakes it (polls and NOTIFY wait too).
    if (Date.now() < this.retryAt) return;
    if (this.reading !== undefined) {
      this.again = true;
      return;
    }
    this.reading = this.drain()
      .then(
        () => this.succeeded(),
        (err: unknown) => this.failed(err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          for (const f of this.idle.splice(0)) f();
        }
      });
  }

  private failed(err: Error): void {
    if (this.stopped) return;
    this.opts.onError?.(err);
    if (isConnectionFailure(err) && this.client !== undefined) {
      // The query failed with the session: a new connection for the next read.
      const c = this.client;
      this.client = undefined;
      void c.end().catch(() => undefined);
    }
    const delay = this.backoff.next();
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.wake(), delay);
    this.retryTimer.unref();
    if (this.failing === undefined) {
      this.failing = err;
      this.opts.onReachability?.(err);
    }
  }

  private succeeded(): void {
    this.backoff.reset();
    this.retryAt = 0;
    if (this.failing === undefined || this.stopped) return;
    this.failing = undefined;
    this.opts.onReachability?.(undefined);
  }

  private async drain(): Promise<void> {
    const c = await this.connect();
    const events = await this.readLabels(c);
    for (;;) {
      const r = await c.query<BatchRow>(sql.AFTER, [this.last, this.pageBatches]);
      for (const row of r.rows) {
        if (this.stopped) return;
        if (row.position !== this.last + 1) this.opts.onGap?.(this.last, row.position);
        await this.onBatch(decode(row));
        this.last = row.position;
      }
      if (r.rows.length < this.pageBatches) break;
    }
    for (const e of events) {
      if (this.stopped) return;
      await this.opts.labels!.apply(e.ids.map(Number), e.targets);
      this.labelSeq = e.seq;
    }
  }

  private async readLabels(c: pg.Client): Promise<{ seq: number; ids: (number | string)[]; targets: number[] }[]> {
    if (this.opts.labels === undefined) return [];
    const out: { seq: number; ids: (number | string)[]; targets: number[] }[] = [];
    for (let after = this.labelSeq; ;) {
      const r = await c.query<{ seq: number; ids: (number | string)[]; targets: number[] }>(sql.LABEL_EVENTS_AFTER, [after, LABEL_PAGE]);
      out.push(...r.rows);
      if (r.rows.length < LABEL_PAGE) return out;
      after = r.rows.at(-1)!.seq;
    }
  }

  /** Resolves once no read is under way (for tests and shutdown). */
  settled(): Promise<void> {
    if (this.reading === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    await this.reading;
    await this.connecting?.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
