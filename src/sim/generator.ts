// Synthetic rows drawn from a model's reference profile, so the simulator needs no data file:
// each feature is sampled on its own from the frozen bins (inverse CDF over the bins' counts),
// then shifted by the drift scenarios, rounded and clamped so that the model card accepts it.
// Only the marginal distributions follow the reference; the joint one is not kept, which is
// what per-feature drift tests look at anyway.
import type { ColumnProfile, ReferenceProfile } from '../drift/index.js';
import { DriftlineError } from '../errors.js';
import type { FeatureSpec, ModelCard } from '../model/index.js';
import { mulberry32, type Random } from './prng.js';
import { applyScenarios, parseScenarios, type DriftScenario } from './scenario.js';
import { csvCell } from '../csv-cell.js';

/** One piece of a reference distribution: a single value, or a uniform stretch (lo, hi). */
interface Atom {
  lo: number;
  hi: number;
}

interface FeatureSampler {
  atoms: Atom[];
  /** Running sum of the atoms' weights, for a binary search on u · total. */
  cum: Float64Array;
  integral: boolean;
  min: number;
  max: number;
  scenarios: DriftScenario[];
}

function featureSampler(col: ColumnProfile, spec: FeatureSpec, scenarios: DriftScenario[]): FeatureSampler {
  const { edges, counts, inner_counts: inner } = col.bins;
  const atoms: Atom[] = [];
  const weights: number[] = [];
  for (let i = 0; i < edges.length; i++) {
    if ((counts[i] ?? 0) > 0) {
      atoms.push({ lo: edges[i]!, hi: edges[i]! });
      weights.push(counts[i]!);
    }
    // Quantile bins also hold the rows strictly between two edges; they are spread uniformly.
    if (inner !== undefined && (inner[i] ?? 0) > 0 && i + 1 < edges.length) {
      atoms.push({ lo: edges[i]!, hi: edges[i + 1]! });
      weights.push(inner[i]!);
    }
  }
  if (atoms.length === 0) throw new DriftlineError('DL_ERR_REFERENCE', `The reference profile has no values for ${col.name}`);
  const cum = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => (cum[i] = total += w));
  return {
    atoms,
    cum,
    // Whole-number reference data (ages, NT dollar amounts) stay whole numbers when synthetic.
    // Only edges that hold rows are observed values; the others are split points between them.
    integral: spec.type === 'integer' || edges.every((e, i) => (counts[i] ?? 0) === 0 || Number.isInteger(e)),
    min: spec.min ?? Number.NEGATIVE_INFINITY,
    max: spec.max ?? Number.POSITIVE_INFINITY,
    scenarios,
  };
}

function draw(s: FeatureSampler, rand: Random): number {
  const target = rand() * s.cum[s.cum.length - 1]!;
  let lo = 0;
  let hi = s.cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.cum[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  const a = s.atoms[lo]!;
  return a.lo === a.hi ? a.lo : a.lo + rand() * (a.hi - a.lo);
}

export interface GeneratorOptions {
  seed: number;
  /** Drift scenarios (`age+8,credit_limit*1.5@10m`); empty or absent: no drift. */
  drift?: string | undefined;
}

/** Names (canonical and aliases) → canonical name, as the card accepts them. */
export function featureNames(card: ModelCard): Map<string, string> {
  return new Map(card.features.flatMap((f) => [f.name, ...f.aliases].map((n) => [n, f.name] as const)));
}

export class TrafficGenerator {
  readonly rand: Random;
  readonly scenarios: readonly DriftScenario[];
  readonly columns: readonly string[];
  private readonly samplers: FeatureSampler[];

  constructor(profile: ReferenceProfile, card: ModelCard, opts: GeneratorOptions) {
    this.rand = mulberry32(opts.seed);
    this.scenarios = parseScenarios(opts.drift ?? '', featureNames(card));
    this.columns = card.features.map((f) => f.name);
    this.samplers = card.features.map((f) => {
      const col = profile.features.find((c) => c.name === f.name);
      if (col === undefined)
        throw new DriftlineError('DL_ERR_REFERENCE', `The reference profile has no column ${f.name} of the model card`);
      return featureSampler(
        col,
        f,
        this.scenarios.filter((s) => s.feature === f.name),
      );
    });
  }

  /** One row in card order, `elapsedMs` after the start (for ramped scenarios). */
  row(elapsedMs = 0): number[] {
    return this.samplers.map((s) => {
      let x = applyScenarios(draw(s, this.rand), s.scenarios, elapsedMs);
      x = s.integral ? Math.round(x) : Math.round(x * 100) / 100;
      return Math.min(s.max, Math.max(s.min, x));
    });
  }

  rows(n: number, elapsedMs = 0): number[][] {
    return Array.from({ length: n }, () => this.row(elapsedMs));
  }

  /** `n` rows as a CSV with a header of the card's column names. */
  csv(n: number, elapsedMs = 0): string {
    const lines = [this.columns.map(csvCell).join(',')];
    for (const r of this.rows(n, elapsedMs)) lines.push(r.join(','));
    return `${lines.join('\n')}\n`;
  }
}
