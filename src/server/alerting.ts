import type Database from 'better-sqlite3';
import type { Config } from '../config.js';
import {
  AlertOutbox,
  AlertSender,
  RuleEngine,
  channelsFrom,
  type Alert,
  type Channel,
  type OutboxPort,
  type RulesConfig,
} from '../alerts/index.js';
import type { Logger } from '../log.js';
import type { ModelCard } from '../model/index.js';
import type { MonitorSnapshot } from '../monitor/index.js';
import { LeaderElector, PgAlertOutbox } from '../store/pg/index.js';
import type { LiveHub } from './live.js';
import type { Metrics } from './metrics.js';

export interface AlertingOptions {
  config: Config;
  log: Logger;
  card: ModelCard;
  rules: RulesConfig;
  /** The local database, for the outbox of a single node (none with DATABASE_URL). */
  db: Database.Database | undefined;
}

/**
 * Governance: every fresh snapshot goes through the rules; alerts are written to the outbox
 * first, then logged, pushed live, and delivered in the background.
 *
 * With replicas sharing PostgreSQL (DATABASE_URL), the outbox is theirs in common and only the
 * elected leader runs the rules and the sender: every replica's window is the same, so one
 * evaluation stands for all, and each alert fires once for the cluster. A new leader restores
 * the rules' state from the outbox's last alerts, so what fired under the old one resolves
 * rather than fires again.
 */
export class Alerting {
  readonly engine: RuleEngine;
  private sender: AlertSender | undefined;
  private readonly channels: Channel[];
  private readonly elector: LeaderElector | undefined;
  private leading = false;
  private evaluatedSinceTick = false;

  private constructor(
    private readonly opts: AlertingOptions,
    readonly outbox: OutboxPort & { close?: () => Promise<void> },
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
    const { channels, status } = channelsFrom(config);
    for (const line of status) opts.log.info(line);
    this.channels = channels;
    if (config.DATABASE_URL !== undefined) {
      this.elector = new LeaderElector({
        connectionString: config.DATABASE_URL,
        applicationName: `driftline-leader ${config.REPLICA_ID}`.slice(0, 63),
        retryMs: config.LEADER_RETRY_MS,
        keepAliveMs: config.LEADER_KEEPALIVE_MS,
        timeoutMs: config.LEADER_TIMEOUT_MS,
        sessionTimeoutMs: config.LEADER_SESSION_TIMEOUT_MS,
        onElected: () => this.lead(),
        onDemoted: (reason) => this.follow(reason),
        onError: (err) => opts.log.warn({ err }, 'leader election: the connection failed; retrying'),
      });
    }
  }

  static async open(opts: AlertingOptions, out: { log: Logger; hub: LiveHub; metrics: Metrics }): Promise<Alerting> {
    const url = opts.config.DATABASE_URL;
    if (url !== undefined)
      return new Alerting(opts, await PgAlertOutbox.open({ connectionString: url, leaseMs: opts.config.OUTBOX_LEASE_MS }), out);
    if (opts.db === undefined) throw new Error('a single node keeps its alert outbox in the local database');
    return new Alerting(opts, new AlertOutbox(opts.db), out);
  }

  /** Whether this process runs the rules and delivers: always alone, the elected one among replicas. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The alerts firing now: the rules' own state where they run, else the shared outbox's last word. */
  async firing(): Promise<Alert[]> {
    if (this.leading) return this.engine.firing();
    return [...(await this.outbox.lastByRule()).values()].filter((a) => a.status === 'firing');
  }

  /** One evaluation for both callers: each fresh snapshot, and the idle timer. */
  evaluate(snap: MonitorSnapshot): void {
    this.evaluatedSinceTick = true;
    if (!this.leading) return;
    const alerts = this.engine.evaluate(snap);
    const names = this.channels.map((c) => c.name);
    for (const a of alerts) {
      const recorded = this.outbox.record(a, names);
      if (recorded instanceof Promise)
        recorded.then(
          () => this.sender?.kick(),
          (err: unknown) => this.out.log.error({ err, alert: a.id }, 'could not record an alert in the outbox; it is not delivered'),
        );
      this.out.log[a.status === 'firing' && a.severity === 'critical' ? 'error' : 'warn'](
        { alert: a },
        `alert ${a.status}: ${a.title}: ${a.message}`,
      );
      this.out.hub.publish('alerts', a);
    }
    this.out.metrics.alertsFiring.set(this.engine.firing().length);
    if (alerts.length > 0) this.sender?.kick();
  }

  /** While no rows arrive no snapshot is fresh: the timer re-reads the current one so rules can resolve. */
  evaluateIfIdle(current: () => MonitorSnapshot): void {
    if (!this.evaluatedSinceTick) this.evaluate(current());
    this.evaluatedSinceTick = false;
  }

  /** Alone: leads at once. Among replicas: stands for election. */
  async start(): Promise<void> {
    if (this.elector === undefined) await this.lead();
    else this.elector.start();
  }

  private async lead(): Promise<void> {
    try {
      this.engine.restore(await this.outbox.lastByRule());
    } catch (err) {
      // Leading without the last alerts risks one repeated alert; not leading stops them all.
      this.opts.log.error({ err }, "could not read the outbox's last alerts; rules start afresh");
    }
    this.sender = new AlertSender(this.outbox, this.channels, this.opts.log, {
      baseDelayMs: this.opts.config.ALERT_RETRY_BASE_MS,
      maxDelayMs: this.opts.config.ALERT_RETRY_MAX_MS,
    });
    this.sender.start();
    this.leading = true;
    this.out.metrics.leader.set(1);
    if (this.elector !== undefined) this.opts.log.info('this replica leads: alert rules and delivery run here');
  }

  private async follow(reason: 'lost' | 'stopped'): Promise<void> {
    this.leading = false;
    this.out.metrics.leader.set(0);
    const sender = this.sender;
    this.sender = undefined;
    if (reason === 'lost') this.opts.log.warn('this replica no longer leads (its database session was lost)');
    await sender?.stop();
  }

  async stop(): Promise<void> {
    if (this.elector === undefined) await this.follow('stopped');
    else await this.elector.stop();
    await this.outbox.close?.();
  }
}
