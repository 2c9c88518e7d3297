import pg from 'pg';
import { types } from './batch.js';
import { migrateAt } from './schema.js';

/**
 * A small pool for a store's reads and short transactions, with the store's type parsers. A
 * connection that drops while idle is replaced by the pool; one that drops while checked out,
 * between two queries, emits 'error' on its client, which with no listener would end the
 * process: the next query on it fails instead.
 */
export function openPool(config: Omit<pg.PoolConfig, 'types'>): pg.Pool {
  const pool = new pg.Pool({ max: 2, ...config, types });
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  return pool;
}

/**
 * A small store's start (the drift history, the alert outbox): the schema migrated, as every
 * store does first, then its pool, named `app` in pg_stat_activity, with connects and queries
 * bounded by `timeoutMs`.
 */
export async function openStorePool(o: { connectionString: string; app: string; what: string; timeoutMs?: number }): Promise<pg.Pool> {
  await migrateAt(o.connectionString, o.what);
  const timeoutMs = o.timeoutMs ?? 10_000;
  return openPool({
    connectionString: o.connectionString,
    application_name: o.app,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
  });
}

/**
 * Runs `fn` in one transaction on a client of `pool`: committed if it returns, rolled back if it
 * throws, the error going on as it was. `begin` may ask for an isolation level.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query(begin);
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
