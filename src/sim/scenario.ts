// Drift scenarios for the simulator: `age+8`, `credit_limit*1.5`, `age-3`, and with a ramp
// `age+8@10m`, which grows the shift linearly from nothing to full over ten minutes. Several
// are joined with commas: `age+8,credit_limit*1.5@1h`.
import { DriftlineError } from '../errors.js';

export interface DriftScenario {
  /** The feature's canonical name (an alias in the spec is resolved). */
  feature: string;
  /** `+` adds `amount` (a `-n` spec is `+` with a negative amount); `*` multiplies by it. */
  op: '+' | '*';
  amount: number;
  /** Time over which the shift ramps in; 0 applies it in full at once. */
  rampMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10m`, `90s`, `1.5h`, `250ms`; a bare number is in `bareUnit`. Returns milliseconds. */
export function parseDuration(text: string, bareUnit: 'ms' | 's' | 'm' | 'h' = 's'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) throw new DriftlineError('DL_ERR_CONFIG', `Not a duration: ${JSON.stringify(text)} (expected e.g. 500ms, 30s, 10m, 1h)`);
  return Number(m[1]) * UNIT_MS[m[2] ?? bareUnit]!;
}

const TAIL = /^\s*([+*-])\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(?:@\s*(\S+))?\s*$/;

/**
 * Parses a comma-separated list of scenarios. `features` maps every accepted column name
 * (canonical names and aliases) to its canonical name; names are matched longest first, so a
 * feature whose name contains `-` still resolves.
 */
export function parseScenarios(spec: string, features: ReadonlyMap<string, string>): DriftScenario[] {
  const names = [...features.keys()].sort((a, b) => b.length - a.length);
  const out: DriftScenario[] = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    let parsed: DriftScenario | undefined;
    for (const name of names) {
      if (!part.startsWith(name)) continue;
      const m = TAIL.exec(part.slice(name.length));
      if (m === null) continue;
      const amount = Number(m[2]);
      const rampMs = m[3] === undefined ? 0 : parseDuration(m[3], 'm');
      parsed =
        m[1] === '*'
          ? { feature: features.get(name)!, op: '*', amount, rampMs }
          : { feature: features.get(name)!, op: '+', amount: m[1] === '-' ? -amount : amount, rampMs };
      break;
    }
    if (parsed === undefined) {
      const canonical = [...new Set(features.values())];
      throw new DriftlineError(
        'DL_ERR_CONFIG',
        `Not a drift scenario: ${JSON.stringify(part)}. Expected <feature>+<n>, <feature>-<n> or <feature>*<k>, optionally @<duration> to ramp in (e.g. age+8@10m); features: ${canonical.join(', ')}`,
      );
    }
    out.push(parsed);
  }
  return out;
}

/** The value after the scenarios that name this feature, `elapsedMs` after the start. */
export function applyScenarios(x: number, scenarios: readonly DriftScenario[], elapsedMs: number): number {
  let v = x;
  for (const s of scenarios) {
    const r = s.rampMs > 0 ? Math.min(1, Math.max(0, elapsedMs / s.rampMs)) : 1;
    v = s.op === '+' ? v + s.amount * r : v * (1 + (s.amount - 1) * r);
  }
  return v;
}

/** A scenario list as the spec that would produce it (for logs). */
export function describeScenarios(scenarios: readonly DriftScenario[]): string {
  if (scenarios.length === 0) return 'none';
  return scenarios
    .map(
      (s) =>
        `${s.feature}${s.op === '*' ? '*' : s.amount < 0 ? '-' : '+'}${Math.abs(s.amount)}${s.rampMs > 0 ? `@${s.rampMs / 60_000}m` : ''}`,
    )
    .join(',');
}
