import type { Logger } from '../log.js';
import type { Channel } from './channels.js';
import type { OutboxPort } from './port.js';

export interface SenderOptions {
  /** First retry delay; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delivers the outbox in the background: network I/O only, never on the request path, so a
 * slow or dead mail server or webhook cannot slow the pipeline. Failed deliveries are retried
 * with exponential backoff (with jitter, so peers coming back aren't hit all at once).
 *
 * Works over either outbox (SQLite or PostgreSQL) and awaits every call, so an outbox that
 * answers later, or fails (its database unreachable), ends the round and is tried again at the
 * next. Several senders may share one outbox: each delivery goes to the one whose claim wins.
 */
export class AlertSender {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private recovered: Promise<void> | undefined;
  private failedRound = false;
  private readonly byName: Map<string, Channel>;

  constructor(
    private readonly outbox: OutboxPort,
    channels: readonly Channel[],
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {
    this.byName = new Map(channels.map((c) => [c.name, c]));
  }

  start(): void {
    // Rounds wait for it: recovering after a claim would put this sender's own delivery back.
    this.recovered ??= (async () => {
      try {
        const recovered = await this.outbox.recover();
        if (recovered > 0) this.log.warn({ recovered }, 'alert deliveries interrupted by a restart will be retried');
      } catch (err) {
        this.log.error({ err }, 'alert outbox recovery failed');
      }
    })();
    this.kick();
  }

  /** Runs a delivery round now (e.g. a new alert was recorded). */
  kick(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) return;
    void this.round();
  }

  private async round(): Promise<void> {
    this.running = true;
    try {
      await this.recovered;
      for (;;) {
        const due = await this.outbox.due(Date.now());
        if (due.length === 0 || this.stopped) break;
        // Settled, not all: a failed outbox call ends the round only once every send under way
        // has been recorded, so no second round starts beside them.
        const done = await Promise.allSettled(due.map((d) => this.deliver(d.alert.id, d.channel, d.attempts, d.alert)));
        const failed = done.find((d) => d.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      }
    } catch (err) {
      this.log.error({ err }, 'alert delivery round failed');
      this.failedRound = true;
    } finally {
      this.running = false;
      void this.schedule();
    }
  }

  private async deliver(id: string, channelName: string, attempts: number, alert: Parameters<Channel['send']>[0]): Promise<void> {
    if (!(await this.outbox.claim(id, channelName))) return;
    const channel = this.byName.get(channelName);
    if (channel === undefined) {
      // Recorded while the channel was configured; kept in case it is configured again.
      await this.outbox.retryAt(id, channelName, Date.now() + this.opts.maxDelayMs, `the ${channelName} channel is not configured`);
      return;
    }
    let failure: Error | undefined;
    try {
      await channel.send(alert);
    } catch (err) {
      failure = err as Error;
    }
    if (failure === undefined) {
      await this.outbox.sent(id, channelName);
      this.log.info({ alert: id, rule: alert.rule, channel: channelName }, 'alert delivered');
    } else {
      const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      const message = failure.message;
      await this.outbox.retryAt(id, channelName, Date.now() + delay, message);
      this.log.warn(
        { alert: id, channel: channelName, attempt: attempts + 1, retry_in_ms: Math.round(delay), error: message },
        'alert delivery failed; will retry',
      );
    }
  }

  private async schedule(): Promise<void> {
    if (this.stopped) return;
    let next: number | null;
    if (this.failedRound) {
      // The outbox failed (its database unreachable): come back later rather than ask it again now.
      this.failedRound = false;
      next = Date.now() + this.opts.baseDelayMs;
    } else {
      try {
        next = await this.outbox.nextDue();
      } catch (err) {
        this.log.error({ err }, 'alert outbox unreadable; will retry');
        next = Date.now() + this.opts.baseDelayMs;
      }
    }
    // A kick while nextDue was read started a round, which schedules itself.
    if (next === null || this.stopped || this.running || this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, next - Date.now()),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.recovered;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.byName.values()) c.close?.();
  }
}
