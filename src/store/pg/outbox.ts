import { randomUUID } from 'node:crypto';
import pg from 'pg';
// Types only: the outbox port and the alert's shape belong to src/alerts, which owns delivery.
import type { Due, OutboxPort } from '../../alerts/port.js';
import type { Alert, DeliveryState } from '../../alerts/types.js';
import { inTransaction, openStorePool } from './pool.js';

export interface PgAlertOutboxOptions {
  connectionString: string;
  /** Alerts kept; older ones (and their deliveries) are removed as new ones are recorded. */
  retention?: number;
  /**
   * How long a claim holds, ms. A delivery still `sending` after this long is taken to have
   * lost its sender (a replica that died mid-send) and may be claimed again. It must exceed
   * the longest a send can take: the channels give up after 15 s of silence per step
   * (channels.ts), so the default of 5 min leaves ample room.
   */
  leaseMs?: number;
  /**
   * A connect or query that takes longer fails, ms, so that a database cut off by the network
   * ends the sender's round instead of holding it until TCP gives up. A claim that timed out
   * may still have been made: the lease then brings the delivery back.
   */
  timeoutMs?: number;
}

/** How the outbox's connections show in pg_stat_activity. */
export const OUTBOX_APP = 'driftline-outbox';

// Statements in one place. `$lease` comparisons use the database's clock, shared by every
// replica, so that a skewed replica clock neither steals a live claim nor keeps a dead one.
const STALE = `claimed_at <= now() - $LEASE * interval '1 millisecond'`;
const lease = (q: string, n: number): string => q.replaceAll('$LEASE', `$${n}`);

const SQL = {
  alert: 'INSERT INTO alerts (id, ts, rule, severity, status, payload) VALUES ($1, $2, $3, $4, $5, $6)',
  deliveries: `INSERT INTO alert_deliveries (alert_id, channel, state, next_at) SELECT $1, c, 'pending', $3 FROM unnest($2::text[]) AS c`,
  // Exact count kept: the seq of the (retention + 1)th newest alert and everything older goes.
  prune: 'DELETE FROM alerts WHERE seq <= (SELECT seq FROM alerts ORDER BY seq DESC OFFSET $1 LIMIT 1)',
  due: lease(
    `SELECT d.alert_id, d.channel, d.attempts, a.payload FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
     WHERE (d.state = 'pending' AND d.next_at <= $1) OR (d.state = 'sending' AND d.${STALE})
     ORDER BY d.next_at, a.seq, d.channel LIMIT $2`,
    3,
  ),
  // One conditional UPDATE: of callers racing for a row, the first to lock it changes it; the
  // others wait for its commit, re-check the condition on the new row (READ COMMITTED), find
  // it no longer pending, and change nothing. So exactly one claim wins, on any replica.
  claim: lease(
    `UPDATE alert_deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = $3, claimed_at = now()
     WHERE alert_id = $1 AND channel = $2 AND (state = 'pending' OR (state = 'sending' AND ${STALE}))`,
    4,
  ),
  // Whoever holds the claim now: the alert did go out, and a sender that took over a stale
  // claim must not send it again after a failure of its own.
  sent: `UPDATE alert_deliveries SET state = 'sent', sent_at = $1, last_error = NULL, claimed_by = NULL, claimed_at = NULL
     WHERE alert_id = $2 AND channel = $3 AND state = 'sending'`,
  // Only the holder's own claim: a sender whose claim went stale and was taken over must not
  // put back a delivery another sender is making.
  retry: `UPDATE alert_deliveries SET state = 'pending', next_at = $1, last_error = $2, claimed_by = NULL, claimed_at = NULL
     WHERE alert_id = $3 AND channel = $4 AND state = 'sending' AND claimed_by = $5`,
  recover: lease(
    `UPDATE alert_deliveries SET state = 'pending', claimed_by = NULL, claimed_at = NULL WHERE state = 'sending' AND ${STALE}`,
    1,
  ),
  // In this machine's ms: a pending delivery's next_at, or when a stale claim may be taken over.
  next: lease(
    `SELECT LEAST(
       (SELECT min(next_at) FROM alert_deliveries WHERE state = 'pending'),
       (SELECT $2::bigint + ceil(extract(epoch FROM min(claimed_at) + $LEASE * interval '1 millisecond' - now()) * 1000)::bigint
          FROM alert_deliveries WHERE state = 'sending')
     ) AS next`,
    1,
  ),
  recent: 'SELECT id, payload FROM alerts ORDER BY ts DESC, seq DESC LIMIT $1',
  deliveriesOf: `SELECT alert_id, channel, state, attempts, last_error, sent_at FROM alert_deliveries
     WHERE alert_id = ANY($1::text[]) ORDER BY channel`,
  pending: "SELECT count(*)::int AS n FROM alert_deliveries WHERE state != 'sent'",
  lastByRule: 'SELECT DISTINCT ON (rule) payload FROM alerts ORDER BY rule, seq DESC',
};

/**
 * The alert outbox in PostgreSQL, shared by every replica, with the SQLite outbox's semantics
 * (src/alerts/outbox.ts). What sharing changes is recovery: in SQLite every `sending` row at
 * start-up was left by a crash, but here it may be a live replica's send under way, so a
 * claim is a lease, and only a claim older than `leaseMs` is taken back (by `recover`) or
 * over (by `due` and `claim`). A delivery is sent twice only if its sender stopped mid-send,
 * or took longer than the lease; both times with the same alert id.
 */
export class PgAlertOutbox implements OutboxPort {
  /** Marks this instance's claims, so that its retries never touch a claim another took over. */
  readonly id = randomUUID();
  private readonly retention: number;
  private readonly leaseMs: number;

  private constructor(
    private readonly pool: pg.Pool,
    opts: PgAlertOutboxOptions,
  ) {
    this.retention = opts.retention ?? 10_000;
    this.leaseMs = opts.leaseMs ?? 300_000;
  }

  /** Migrates the schema (as the prediction log does) and opens a small pool. */
  static async open(opts: PgAlertOutboxOptions): Promise<PgAlertOutbox> {
    const pool = await openStorePool({
      connectionString: opts.connectionString,
      app: OUTBOX_APP,
      what: 'the PostgreSQL alert outbox',
      timeoutMs: opts.timeoutMs,
    });
    return new PgAlertOutbox(pool, opts);
  }

  async record(alert: Alert, channels: readonly string[], now: number = Date.now()): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(SQL.alert, [alert.id, Date.parse(alert.at), alert.rule, alert.severity, alert.status, JSON.stringify(alert)]);
      if (channels.length > 0) await c.query(SQL.deliveries, [alert.id, [...channels], now]);
      await c.query(SQL.prune, [this.retention]);
    });
  }

  /** Claims older than the lease go back to pending (their sender is gone); how many. */
  async recover(): Promise<number> {
    return (await this.pool.query(SQL.recover, [this.leaseMs])).rowCount ?? 0;
  }

  async due(now: number, limit = 50): Promise<Due[]> {
    const r = await this.pool.query<{ alert_id: string; channel: string; attempts: number; payload: string }>(SQL.due, [
      now,
      limit,
      this.leaseMs,
    ]);
    return r.rows.map((x) => ({ alert: JSON.parse(x.payload) as Alert, channel: x.channel, attempts: x.attempts }));
  }

  async claim(alertId: string, channel: string): Promise<boolean> {
    return (await this.pool.query(SQL.claim, [alertId, channel, this.id, this.leaseMs])).rowCount === 1;
  }

  async sent(alertId: string, channel: string, now: number = Date.now()): Promise<void> {
    await this.pool.query(SQL.sent, [now, alertId, channel]);
  }

  async retryAt(alertId: string, channel: string, at: number, error: string): Promise<void> {
    await this.pool.query(SQL.retry, [Math.round(at), error.slice(0, 500), alertId, channel, this.id]);
  }

  async nextDue(): Promise<number | null> {
    return (await this.pool.query<{ next: number | null }>(SQL.next, [this.leaseMs, Date.now()])).rows[0]?.next ?? null;
  }

  async lastByRule(): Promise<Map<string, Alert>> {
    const r = await this.pool.query<{ payload: string }>(SQL.lastByRule);
    return new Map(r.rows.map((x) => JSON.parse(x.payload) as Alert).map((a) => [a.rule, a]));
  }

  async undelivered(): Promise<number> {
    return (await this.pool.query<{ n: number }>(SQL.pending)).rows[0]!.n;
  }

  async recent(limit: number): Promise<(Alert & { deliveries: DeliveryState[] })[]> {
    const alerts = (await this.pool.query<{ id: string; payload: string }>(SQL.recent, [limit])).rows;
    const byAlert = new Map<string, DeliveryState[]>(alerts.map((a) => [a.id, []]));
    if (alerts.length > 0) {
      const r = await this.pool.query<Omit<DeliveryState, 'sent_at'> & { alert_id: string; sent_at: number | null }>(SQL.deliveriesOf, [
        alerts.map((a) => a.id),
      ]);
      for (const { alert_id, sent_at, ...d } of r.rows)
        byAlert.get(alert_id)?.push({ ...d, sent_at: sent_at === null ? null : new Date(sent_at).toISOString() });
    }
    return alerts.map((a) => ({ ...(JSON.parse(a.payload) as Alert), deliveries: byAlert.get(a.id) ?? [] }));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
