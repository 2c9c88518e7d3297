import { randomUUID } from 'node:crypto';
import type { MonitorSnapshot } from '../monitor/index.js';
import { read, type Baseline, type RuleConfig, type RulesConfig } from './rules.js';
import type { Alert } from './types.js';

interface RuleState {
  rule: RuleConfig;
  id: string;
  firing: Alert | undefined;
  lastFiredAt: number;
  cleanStreak: number;
}

export interface EngineOptions {
  /** Least time between two firings of one rule. */
  cooldownMs: number;
  model: { name: string; version: string };
  /** The model card's validation metrics, the baseline of `accuracy_drop` and `f1_drop`. */
  baseline: Baseline;
  newId?: () => string;
}

/**
 * Evaluates every rule on each snapshot and turns state changes into alerts: one when a rule
 * goes into violation, one when it is back within bounds. A rule fires at most once per
 * cool-down; numeric rules resolve only with a margin (hysteresis) and yes/no rules only after
 * several clean evaluations, so a value hovering at its threshold does not flap.
 */
export class RuleEngine {
  private readonly states: RuleState[];

  constructor(
    private readonly config: RulesConfig,
    private readonly opts: EngineOptions,
  ) {
    const seen = new Map<string, number>();
    this.states = config.rules
      .filter((r) => r.enabled)
      .map((rule) => {
        const n = (seen.get(rule.kind) ?? 0) + 1;
        seen.set(rule.kind, n);
        return {
          rule,
          id: n === 1 ? rule.kind : `${rule.kind}#${n}`,
          firing: undefined,
          lastFiredAt: Number.NEGATIVE_INFINITY,
          cleanStreak: 0,
        };
      });
  }

  evaluate(s: MonitorSnapshot, now: number = Date.now()): Alert[] {
    const out: Alert[] = [];
    for (const st of this.states) {
      const r = read(st.rule, s, { hysteresis: this.config.hysteresis, baseline: this.opts.baseline });
      if (!r.applicable) continue;
      if (st.firing === undefined) {
        if (r.violated && now - st.lastFiredAt >= this.opts.cooldownMs) {
          st.firing = this.alert(st, 'firing', r, now);
          st.lastFiredAt = now;
          st.cleanStreak = 0;
          out.push(st.firing);
        }
        continue;
      }
      const clear = r.clear ?? !r.violated;
      st.cleanStreak = clear ? st.cleanStreak + 1 : 0;
      const needed = r.clear === undefined ? this.config.clear_evaluations : 1;
      if (st.cleanStreak >= needed) {
        out.push({ ...this.alert(st, 'resolved', r, now), resolves: st.firing.id });
        st.firing = undefined;
        st.cleanStreak = 0;
      }
    }
    return out;
  }

  /**
   * Picks up where a previous run left off: a rule whose last alert was `firing` is still
   * firing (it will resolve, not fire again), and cool-downs count from the last firing.
   */
  restore(lastByRule: ReadonlyMap<string, Alert>): void {
    for (const st of this.states) {
      const a = lastByRule.get(st.id);
      if (a === undefined) continue;
      if (a.status === 'firing') {
        st.firing = a;
        st.lastFiredAt = Date.parse(a.at);
      } else {
        // Resolved since this engine last ran (another replica led meanwhile).
        st.firing = undefined;
        st.cleanStreak = 0;
      }
    }
  }

  /** Rules currently firing, by id. */
  firing(): Alert[] {
    return this.states.flatMap((s) => (s.firing === undefined ? [] : [s.firing]));
  }

  private alert(st: RuleState, status: Alert['status'], r: ReturnType<typeof read>, now: number): Alert {
    return {
      id: this.opts.newId?.() ?? randomUUID(),
      rule: st.id,
      title: r.title,
      severity: st.rule.severity,
      status,
      message: status === 'resolved' ? `back within bounds: ${r.message}` : r.message,
      value: r.value,
      threshold: r.threshold,
      values: r.values,
      ...(r.drifted === undefined ? {} : { drifted: r.drifted }),
      model: this.opts.model,
      at: new Date(now).toISOString(),
    };
  }
}
