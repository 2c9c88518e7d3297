import type { Db } from '../store/db.js';
import type { Due, OutboxPort } from './port.js';
import type { Alert, DeliveryState } from './types.js';

export type { Due } from './port.js';

/**
 * Alerts are written here before anything is sent: one row per alert and one delivery row per
 * channel. The sender claims a delivery (pending → sending), sends, and marks it sent, so a
 * delivered alert is never sent again on that channel, restart or not. A delivery left
 * `sending` by a crash is retried after a restart with the same alert id (email Message-ID,
 * Slack context line), which lets the receiving side recognise a repeat.
 *
 * One process owns the SQLite file, so every `sending` row at start-up was left by a crash:
 * `recover` takes them all back. The PostgreSQL outbox, shared by replicas, cannot (see
 * store/pg/outbox.ts).
 */
export class AlertOutbox implements OutboxPort {
  private readonly st;

  constructor(
    private readonly db: Db,
    private readonly retention = 10_000,
  ) {
    this.st = {
      alert: db.prepare('INSERT INTO alerts (id, ts, rule, severity, status, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      delivery: db.prepare("INSERT INTO alert_deliveries (alert_id, channel, state, next_at) VALUES (?, ?, 'pending', ?)"),
      due: db.prepare(
        "SELECT d.alert_id, d.channel, d.attempts, a.payload FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at LIMIT ?",
      ),
      claim: db.prepare(
        "UPDATE alert_deliveries SET state = 'sending', attempts = attempts + 1 WHERE alert_id = ? AND channel = ? AND state = 'pending'",
      ),
      sent: db.prepare(
        "UPDATE alert_deliveries SET state = 'sent', sent_at = ?, last_error = NULL WHERE alert_id = ? AND channel = ? AND state = 'sending'",
      ),
      retry: db.prepare(
        "UPDATE alert_deliveries SET state = 'pending', next_at = ?, last_error = ? WHERE alert_id = ? AND channel = ? AND state = 'sending'",
      ),
      recover: db.prepare("UPDATE alert_deliveries SET state = 'pending' WHERE state = 'sending'"),
      next: db.prepare("SELECT MIN(next_at) FROM alert_deliveries WHERE state = 'pending'").pluck(),
      recent: db.prepare('SELECT payload FROM alerts ORDER BY ts DESC, rowid DESC LIMIT ?').pluck(),
      deliveries: db.prepare(
        'SELECT channel, state, attempts, last_error, sent_at FROM alert_deliveries WHERE alert_id = ? ORDER BY channel',
      ),
      prune: db.prepare('DELETE FROM alerts WHERE rowid <= (SELECT MAX(rowid) FROM alerts) - ?'),
      pending: db.prepare("SELECT COUNT(*) FROM alert_deliveries WHERE state != 'sent'").pluck(),
      lastByRule: db.prepare('SELECT payload FROM alerts a WHERE rowid = (SELECT MAX(rowid) FROM alerts b WHERE b.rule = a.rule)').pluck(),
    };
  }

  record(alert: Alert, channels: readonly string[], now: number = Date.now()): void {
    this.db.transaction(() => {
      this.st.alert.run(alert.id, Date.parse(alert.at), alert.rule, alert.severity, alert.status, JSON.stringify(alert));
      for (const c of channels) this.st.delivery.run(alert.id, c, now);
      this.st.prune.run(this.retention);
    })();
  }

  /** Deliveries interrupted by a crash go back to pending (called once at start-up). */
  recover(): number {
    return this.st.recover.run().changes;
  }

  due(now: number, limit = 50): Due[] {
    return (this.st.due.all(now, limit) as { alert_id: string; channel: string; attempts: number; payload: string }[]).map((r) => ({
      alert: JSON.parse(r.payload) as Alert,
      channel: r.channel,
      attempts: r.attempts,
    }));
  }

  claim(alertId: string, channel: string): boolean {
    return this.st.claim.run(alertId, channel).changes === 1;
  }

  sent(alertId: string, channel: string, now: number = Date.now()): void {
    this.st.sent.run(now, alertId, channel);
  }

  retryAt(alertId: string, channel: string, at: number, error: string): void {
    this.st.retry.run(at, error.slice(0, 500), alertId, channel);
  }

  /** When the next pending delivery is due, or null. */
  nextDue(): number | null {
    return this.st.next.get() as number | null;
  }

  /** Each rule's latest alert, to restore the rule engine after a restart. */
  lastByRule(): Map<string, Alert> {
    return new Map((this.st.lastByRule.all() as string[]).map((p) => JSON.parse(p) as Alert).map((a) => [a.rule, a]));
  }

  undelivered(): number {
    return this.st.pending.get() as number;
  }

  recent(limit: number): (Alert & { deliveries: DeliveryState[] })[] {
    return (this.st.recent.all(limit) as string[]).map((p) => {
      const a = JSON.parse(p) as Alert;
      const deliveries = (this.st.deliveries.all(a.id) as (Omit<DeliveryState, 'sent_at'> & { sent_at: number | null })[]).map((d) => ({
        ...d,
        sent_at: d.sent_at === null ? null : new Date(d.sent_at).toISOString(),
      }));
      return { ...a, deliveries };
    });
  }
}
