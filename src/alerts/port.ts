import type { Alert, DeliveryState } from './types.js';

import type { Awaitable } from '../store/port.js';

export type { Awaitable };

export interface Due {
  alert: Alert;
  channel: string;
  attempts: number;
}

/**
 * The alert outbox as the sender and the service use it, whichever database holds it. Alerts
 * are written here before anything is sent: one row per alert and one delivery row per
 * channel. A delivery is sent only by the caller whose `claim` moved it from pending to
 * sending, so it goes out at most once per channel however many senders share the outbox,
 * unless a sender stops mid-send: then `recover` puts it back (with the same alert id, which
 * lets the receiving side recognise the repeat).
 */
export interface OutboxPort {
  record(alert: Alert, channels: readonly string[], now?: number): Awaitable<void>;
  /** Deliveries whose sender is gone go back to pending; how many. */
  recover(): Awaitable<number>;
  /** Deliveries ready to be claimed, oldest due first. */
  due(now: number, limit?: number): Awaitable<Due[]>;
  /** Takes a delivery for sending; true for exactly one of any number of callers. */
  claim(alertId: string, channel: string): Awaitable<boolean>;
  sent(alertId: string, channel: string, now?: number): Awaitable<void>;
  /** A claimed delivery failed: pending again, due at `at`. */
  retryAt(alertId: string, channel: string, at: number, error: string): Awaitable<void>;
  /** When a delivery will next be ready (ms since the epoch, on this machine's clock), or null. */
  nextDue(): Awaitable<number | null>;
  /** Each rule's latest alert, to restore the rule engine after a restart. */
  lastByRule(): Awaitable<Map<string, Alert>>;
  /** Deliveries not yet sent. */
  undelivered(): Awaitable<number>;
  /** The newest alerts, newest first, each with its deliveries. */
  recent(limit: number): Awaitable<(Alert & { deliveries: DeliveryState[] })[]>;
}
