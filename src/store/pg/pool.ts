import pg from 'pg';
import { types } from './batch.js';

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
