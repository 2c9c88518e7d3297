import type { Logger } from '../log.js';
import type { Channel } from './channels.js';
import type { AlertOutbox } from './outbox.js';

export interface SenderOptions {
  /** First retry delay; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delivers the outbox in the background: network I/O only, never on the request path, so a
 * slow or dead mail server or webhook cannot slow the pipeline. Failed deliveries are retried
 * with exponential backoff (with jitter, so peers coming back aren't hit all at once).
 */
export class AlertSender {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private readonly byName: Map<string, Channel>;

  constructor(
    private readonly outbox: AlertOutbox,
    channels: readonly Channel[],
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {
    this.byName = new Map(channels.map((c) => [c.name, c]));
  }

  start(): void {
    const recovered = this.outbox.recover();
    if (recovered > 0) this.log.warn({ recovered }, 'alert deliveries interrupted by a restart will be retried');
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
      for (;;) {
        const due = this.outbox.due(Date.now());
        if (due.length === 0 || this.stopped) break;
        await Promise.all(due.map((d) => this.deliver(d.alert.id, d.channel, d.attempts, d.alert)));
      }
    } catch (err) {
      this.log.error({ err }, 'alert delivery round failed');
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async deliver(id: string, channelName: string, attempts: number, alert: Parameters<Channel['send']>[0]): Promise<void> {
    if (!this.outbox.claim(id, channelName)) return;
    const channel = this.byName.get(channelName);
    if (channel === undefined) {
      // Recorded while the channel was configured; kept in case it is configured again.
      this.outbox.retryAt(id, channelName, Date.now() + this.opts.maxDelayMs, `the ${channelName} channel is not configured`);
      return;
    }
    try {
      await channel.send(alert);
      this.outbox.sent(id, channelName);
      this.log.info({ alert: id, rule: alert.rule, channel: channelName }, 'alert delivered');
    } catch (err) {
      const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      const message = (err as Error).message;
      this.outbox.retryAt(id, channelName, Date.now() + delay, message);
      this.log.warn(
        { alert: id, channel: channelName, attempt: attempts + 1, retry_in_ms: Math.round(delay), error: message },
        'alert delivery failed; will retry',
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.outbox.nextDue();
    if (next === null) return;
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
    while (this.running) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.byName.values()) c.close?.();
  }
}
