import pg from 'pg';
import type { HistoryPoint } from '../drift-history.js';
import type { HistoryStore } from '../port.js';
import { classify } from './faults.js';
import { inTransaction, openStorePool } from './pool.js';

export interface PgDriftHistoryOptions {
  connectionString: string;
  /** Points kept (DRIFT_HISTORY_RETENTION); older ones go as new ones are added. */
  retention: number;
  /** Written with each point: which replica wrote it. */
  replica: string;
  /** A connect or query that takes longer fails, ms: a read never hangs until TCP gives up. */
  timeoutMs?: number;
}

/** How the history's connections show in pg_stat_activity. */
export const HISTORY_APP = 'driftline-history';

// BIGINT columns arrive as numbers (batch.ts's type parsers, which openPool sets). As SQLite's
// DriftHistory pages: small enough that a page decodes within one time slice of
// streamRead.
const PAGE = 256;

const SQL = {
  insert: 'INSERT INTO drift_snapshots (ts, window_rows, share_drifted, drift, snapshot, replica) VALUES ($1, $2, $3, $4, $5, $6)',
  // Exact count kept, whatever gaps the identity has: the (retention + 1)th newest and older go.
  prune: 'DELETE FROM drift_snapshots WHERE id <= (SELECT id FROM drift_snapshots ORDER BY id DESC OFFSET $1 LIMIT 1)',
  // Keyset paging on (ts, id), as in SQLite.
  from: `SELECT id, ts, snapshot FROM drift_snapshots WHERE ts >= $1 AND (ts > $2 OR (ts = $2 AND id > $3))
     ORDER BY ts, id LIMIT $4`,
};

/**
 * The drift history in PostgreSQL, in common for every replica, so that `/api/drift/history`
 * answers the same on each. Only the leader adds points (the service gates `add`): every
 * window is the same, so one writer stands for all, and retention, which runs with each add
 * as in SQLite, is the leader's too.
 */
export class PgDriftHistory implements HistoryStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PgDriftHistoryOptions,
  ) {}

  /** Migrates the schema (as the prediction log does) and opens a small pool. */
  static async open(opts: PgDriftHistoryOptions): Promise<PgDriftHistory> {
    const pool = await openStorePool({
      connectionString: opts.connectionString,
      app: HISTORY_APP,
      what: 'the PostgreSQL drift history',
      timeoutMs: opts.timeoutMs,
    });
    return new PgDriftHistory(pool, opts);
  }

  async add(p: HistoryPoint): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(SQL.insert, [p.at, p.window_rows, p.share_drifted, p.drift, JSON.stringify(p), this.opts.replica]);
      await c.query(SQL.prune, [this.opts.retention]);
    }).catch((err: unknown) => {
      throw classify(err);
    });
  }

  /** As SQLite's: no statement stays open between pages, so a slow consumer holds no connection. */
  async *pointsJson(sinceMs: number, limit = 10_000): AsyncGenerator<string> {
    let ts = sinceMs;
    let id = -1;
    for (let left = limit; left > 0;) {
      const n = Math.min(PAGE, left);
      const page = await this.pool
        .query<{ id: number; ts: number; snapshot: string }>(SQL.from, [sinceMs, ts, id, n])
        .catch((err: unknown) => {
          throw classify(err);
        });
      for (const r of page.rows) yield r.snapshot;
      if (page.rows.length < n) return;
      left -= page.rows.length;
      ts = page.rows.at(-1)!.ts;
      id = page.rows.at(-1)!.id;
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
