import pg from 'pg';
import { LEADER_LOCK } from './locks.js';

export interface ElectorOptions {
  connectionString: string;
  /** A replica that does not lead tries to take the lock this often, ms. */
  retryMs?: number;
  /** The leader checks its connection with a cheap query this often, ms. */
  keepAliveMs?: number;
  /** A connect, check or try that takes longer counts as a dead connection, ms. */
  timeoutMs?: number;
  /**
   * The server ends the elector's session after this long without a query (PostgreSQL's
   * `idle_session_timeout`), which frees the lock of a leader that hangs or is cut off from
   * the network: without it the server keeps the session, and the lock, until TCP gives up
   * (hours by default). Must exceed the longest quiet spell of a live elector:
   * max(retryMs, keepAliveMs) + timeoutMs.
   */
  sessionTimeoutMs?: number;
  /** Ceiling of the reconnect backoff after a failure, ms. */
  maxBackoffMs?: number;
  /** How the connection shows in pg_stat_activity (default ELECTOR_APP); a replica may add its name. */
  applicationName?: string;
  /** The advisory lock key; the default is the cluster's one (locks.ts). */
  key?: number;
  /** This replica now leads. A returned promise is not awaited: the elector goes on checking. */
  onElected?: () => unknown;
  /**
   * This replica no longer leads: `lost` when its connection failed (the lock is gone already,
   * so this is told at once), `stopped` from stop(), which awaits a returned promise before it
   * frees the lock, so that singleton work ends before another replica can start it.
   */
  onDemoted?: (reason: 'lost' | 'stopped') => unknown;
  /** A failed connect, check or try (the elector retries with backoff). */
  onError?: (err: Error) => void;
}

/** How an elector's connection shows in pg_stat_activity. */
export const ELECTOR_APP = 'driftline-leader';

/**
 * One leader at a time for the cluster: the replica whose elector holds a PostgreSQL session
 * advisory lock on its own connection. The server frees the lock when that session ends, so a
 * leader that dies (process killed, connection terminated) is replaced by the next try of
 * another replica, within `retryMs`.
 *
 * The leader demotes itself as soon as it cannot show its session is alive (a connection
 * error, or a check unanswered within `timeoutMs`), and the server ends a silent session after
 * `sessionTimeoutMs`, later than that. So a leader cut off from the database stops leading
 * before another can be elected. What no lock can prevent: a leader whose process stalls for
 * longer than `sessionTimeoutMs` acts as leader until its next check fails.
 */
export class LeaderElector {
  private client: pg.Client | undefined;
  private leading = false;
  private stopped = false;
  private started = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private step: Promise<void> | undefined;
  private readonly retryMs: number;
  private readonly keepAliveMs: number;
  private readonly timeoutMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly key: number;

  constructor(private readonly opts: ElectorOptions) {
    this.retryMs = opts.retryMs ?? 1000;
    this.keepAliveMs = opts.keepAliveMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 5000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.key = opts.key ?? LEADER_LOCK;
    const quiet = Math.max(this.retryMs, this.keepAliveMs) + this.timeoutMs;
    if (this.sessionTimeoutMs <= quiet)
      throw new RangeError(
        `sessionTimeoutMs (${this.sessionTimeoutMs}) must exceed max(retryMs, keepAliveMs) + timeoutMs (${quiet}): the server would end a live elector's session`,
      );
  }

  /** Whether this replica leads now. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts trying for the lock (the first try at once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.step = this.tick().finally(() => {
        this.step = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let c: pg.Client | undefined;
    try {
      c = await this.connect();
      if (this.leading) {
        await c.query('SELECT 1');
      } else {
        const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.key]);
        // Stopped meanwhile: stop() ends the session, which frees the lock just taken.
        if (r.rows[0]?.ok === true && this.client === c && !this.stopped) this.elect();
      }
      this.failures = 0;
      this.schedule(this.leading ? this.keepAliveMs : this.retryMs);
    } catch (err) {
      if (c === undefined) this.report(err);
      else this.drop(c, err);
      this.failures++;
      // Jittered, so replicas that lost the database together don't all come back at once.
      const backoff = Math.min(this.maxBackoffMs, this.retryMs * 2 ** (this.failures - 1)) * (0.75 + Math.random() * 0.5);
      this.schedule(backoff);
    }
  }

  private async connect(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const c = new pg.Client({
      connectionString: this.opts.connectionString,
      application_name: this.opts.applicationName ?? ELECTOR_APP,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      keepAlive: true,
    });
    // The session ending (terminated, server shut down, network) demotes at once, not at the next check.
    c.on('error', (err) => this.drop(c, err));
    c.on('end', () => this.drop(c, new Error('the leader election connection ended')));
    try {
      await c.connect();
      await c.query(`SET idle_session_timeout = ${Math.round(this.sessionTimeoutMs)}`);
    } catch (err) {
      void c.end().catch(() => undefined);
      throw err;
    }
    this.client = c;
    return c;
  }

  private elect(): void {
    this.leading = true;
    this.call(() => this.opts.onElected?.());
  }

  /** Drops a failed connection; a leader is demoted at once, since its lock goes with the session. */
  private drop(c: pg.Client | undefined, err: unknown): void {
    if (c === undefined || this.client !== c) return;
    this.client = undefined;
    void c.end().catch(() => undefined);
    if (this.leading) {
      this.leading = false;
      this.call(() => this.opts.onDemoted?.('lost'));
    }
    this.report(err);
  }

  private report(err: unknown): void {
    if (!this.stopped) this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
  }

  private call(f: () => unknown): void {
    try {
      const r = f();
      if (r instanceof Promise) r.catch((err: unknown) => this.report(err));
    } catch (err) {
      this.report(err);
    }
  }

  /**
   * Stops trying; a leader is demoted (`onDemoted('stopped')`, awaited) and then frees the lock,
   * so another replica takes over at its next try.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.step;
    const c = this.client;
    if (this.leading) {
      this.leading = false;
      try {
        await this.opts.onDemoted?.('stopped');
      } catch (err) {
        this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.client = undefined;
    if (c === undefined) return;
    // Ending the session frees the lock too; the explicit unlock hands over even if the end is slow.
    await c.query('SELECT pg_advisory_unlock($1)', [this.key]).catch(() => undefined);
    await c.end().catch(() => undefined);
  }
}
