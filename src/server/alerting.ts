import type Database from 'better-sqlite3';
import type { Config } from '../config.js';
import { AlertOutbox, AlertSender, RuleEngine, channelsFrom, type RulesConfig } from '../alerts/index.js';
import type { Logger } from '../log.js';
import type { ModelCard } from '../model/index.js';
import type { MonitorSnapshot } from '../monitor/index.js';
import type { LiveHub } from './live.js';
import type { Metrics } from './metrics.js';

/**
 * Governance: every fresh snapshot goes through the rules; alerts are written to the outbox
 * first, then logged, pushed live, and delivered in the background.
 */
export class Alerting {
  readonly engine: RuleEngine;
  readonly outbox: AlertOutbox;
  private readonly sender: AlertSender;
  private readonly channelNames: string[];
  private evaluatedSinceTick = false;

  constructor(
    opts: { config: Config; log: Logger; card: ModelCard; rules: RulesConfig; db: Database.Database },
    private readonly out: { log: Logger; hub: LiveHub; metrics: Metrics },
  ) {
    const { config, card } = opts;
    this.engine = new RuleEngine(opts.rules, {
      cooldownMs: config.ALERT_COOLDOWN_S * 1000,
      model: { name: card.name, version: card.version },
      baseline: {
        accuracy: card.metrics?.validation.accuracy ?? null,
        f1: card.metrics?.validation.f1 ?? null,
        roc_auc: card.metrics?.validation.roc_auc ?? null,
      },
    });
    this.outbox = new AlertOutbox(opts.db);
    this.engine.restore(this.outbox.lastByRule());
    const { channels, status } = channelsFrom(config);
    for (const line of status) opts.log.info(line);
    this.channelNames = channels.map((c) => c.name);
    this.sender = new AlertSender(this.outbox, channels, opts.log, {
      baseDelayMs: config.ALERT_RETRY_BASE_MS,
      maxDelayMs: config.ALERT_RETRY_MAX_MS,
    });
  }

  /** One evaluation for both callers: each fresh snapshot, and the idle timer. */
  evaluate(snap: MonitorSnapshot): void {
    this.evaluatedSinceTick = true;
    const alerts = this.engine.evaluate(snap);
    for (const a of alerts) {
      this.outbox.record(a, this.channelNames);
      this.out.log[a.status === 'firing' && a.severity === 'critical' ? 'error' : 'warn'](
        { alert: a },
        `alert ${a.status}: ${a.title}: ${a.message}`,
      );
      this.out.hub.publish('alerts', a);
    }
    this.out.metrics.alertsFiring.set(this.engine.firing().length);
    if (alerts.length > 0) this.sender.kick();
  }

  /** While no rows arrive no snapshot is fresh: the timer re-reads the current one so rules can resolve. */
  evaluateIfIdle(current: () => MonitorSnapshot): void {
    if (!this.evaluatedSinceTick) this.evaluate(current());
    this.evaluatedSinceTick = false;
  }

  start(): void {
    this.sender.start();
  }

  stop(): Promise<void> {
    return this.sender.stop();
  }
}
