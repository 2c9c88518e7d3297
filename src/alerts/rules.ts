import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DriftlineError } from '../errors.js';
import { getStatTest, hasStatTest } from '../drift/index.js';
import type { MonitorSnapshot, QualityKind } from '../monitor/index.js';
import { driftLine, formatNumber } from './format.js';
import type { DriftedColumn } from './types.js';

const severity = z.enum(['info', 'warning', 'critical']);
const common = { enabled: z.boolean().default(true) };

/**
 * Drift rules judge no window smaller than this by default (or the whole window when
 * WINDOW_ROWS is smaller). Random samples of the very data the reference was built from make
 * `feature_drift` fire in 91 of 100 windows of 200 rows, 49 of 500, 3 of 1000, 0 of 2000
 * (bench/drift-min-rows.ts): below about 1000 rows an alert is mostly sampling noise.
 */
export const DRIFT_MIN_ROWS = 1000;

/**
 * Default data-quality thresholds: a feature fires once more than 5 % of the last rows miss it,
 * hold an invalid value or an unseen category. The reference data (UCI credit default) has no
 * missing or out-of-range cell at all, so any steady share is a broken feed, not sampling; 5 %
 * is past what a handful of bad rows in a 1,000-row window (min_rows) can reach by chance, and
 * still one row in twenty: far below the point where the drift tests or the model stop meaning
 * anything.
 */
export const DATA_QUALITY_THRESHOLDS = { missing: 0.05, invalid: 0.05, unseen: 0.05 } as const;

/**
 * The rule schema for a window of `windowRows` rows (the drift rules' `min_rows` default depends
 * on it). Defaults: the original service's drift checks (drift share > 0.2, any feature drifted,
 * prediction drift); once labels exist, F1 more than 0.1 and accuracy more than 0.05 below the
 * model card's validation metrics; plus concept drift. The original's absolute `f1_below 0.7`
 * stays available, but not as a default: a model whose own validation F1 is 0.45 would fire it
 * on every labelled upload.
 */
export function rulesSchema(windowRows: number) {
  const minRows = z.number().int().min(1).default(Math.min(windowRows, DRIFT_MIN_ROWS));
  const minLabels = z.number().int().min(1).default(100);
  const rule = z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('dataset_drift_share'),
      threshold: z.number().min(0).max(1).default(0.2),
      severity: severity.default('warning'),
      min_rows: minRows,
      ...common,
    }),
    z.object({ kind: z.literal('feature_drift'), severity: severity.default('warning'), min_rows: minRows, ...common }),
    z.object({ kind: z.literal('prediction_drift'), severity: severity.default('warning'), min_rows: minRows, ...common }),
    z.object({
      kind: z.literal('f1_drop'),
      threshold: z.number().min(0).max(1).default(0.1),
      severity: severity.default('critical'),
      min_labels: minLabels,
      ...common,
    }),
    z.object({
      kind: z.literal('accuracy_drop'),
      threshold: z.number().min(0).max(1).default(0.05),
      severity: severity.default('critical'),
      min_labels: minLabels,
      ...common,
    }),
    z.object({
      kind: z.literal('f1_below'),
      threshold: z.number().min(0).max(1).default(0.7),
      severity: severity.default('critical'),
      min_labels: minLabels,
      ...common,
    }),
    z.object({
      kind: z.literal('estimated_f1_drop'),
      threshold: z.number().min(0).max(1).default(0.1),
      severity: severity.default('warning'),
      min_rows: minRows,
      ...common,
    }),
    z.object({
      kind: z.literal('estimated_roc_auc_drop'),
      threshold: z.number().min(0).max(1).default(0.05),
      severity: severity.default('warning'),
      min_rows: minRows,
      ...common,
    }),
    z.object({
      kind: z.literal('data_quality'),
      thresholds: z
        .object({
          missing: z.number().min(0).max(1).default(DATA_QUALITY_THRESHOLDS.missing),
          invalid: z.number().min(0).max(1).default(DATA_QUALITY_THRESHOLDS.invalid),
          unseen: z.number().min(0).max(1).default(DATA_QUALITY_THRESHOLDS.unseen),
        })
        .strict()
        .default(() => ({ ...DATA_QUALITY_THRESHOLDS })),
      severity: severity.default('warning'),
      min_rows: minRows,
      ...common,
    }),
    z.object({
      kind: z.literal('concept_drift'),
      severity: severity.default('critical'),
      clear_after: z.number().int().min(1).default(100),
      ...common,
    }),
  ]);
  return z.object({
    rules: z.array(rule).default(() => DEFAULT_RULES.map((r) => rule.parse(r))),
    /** A numeric rule resolves only once its value is this far (relative) inside the threshold. */
    hysteresis: z.number().min(0).max(1).default(0.1),
    /** A yes/no rule resolves only after this many clean evaluations in a row. */
    clear_evaluations: z.number().int().min(1).default(3),
  });
}
export type RulesConfig = z.infer<ReturnType<typeof rulesSchema>>;
export type RuleConfig = RulesConfig['rules'][number];

export const DEFAULT_RULES = [
  { kind: 'dataset_drift_share' },
  { kind: 'feature_drift' },
  { kind: 'prediction_drift' },
  { kind: 'f1_drop' },
  { kind: 'accuracy_drop' },
  { kind: 'estimated_f1_drop' },
  { kind: 'estimated_roc_auc_drop' },
  { kind: 'data_quality' },
  { kind: 'concept_drift' },
] as const;

/** Rules from ALERT_RULES (a JSON string) or ALERT_RULES_FILE (a JSON file), else the defaults. */
export function loadRules(env: {
  ALERT_RULES?: string | undefined;
  ALERT_RULES_FILE?: string | undefined;
  WINDOW_ROWS: number;
}): RulesConfig {
  let raw: unknown = {};
  const source = env.ALERT_RULES !== undefined ? 'ALERT_RULES' : env.ALERT_RULES_FILE;
  try {
    if (env.ALERT_RULES !== undefined) raw = JSON.parse(env.ALERT_RULES);
    else if (env.ALERT_RULES_FILE !== undefined) raw = JSON.parse(readFileSync(env.ALERT_RULES_FILE, 'utf8'));
  } catch (err) {
    throw new DriftlineError('DL_ERR_CONFIG', `Cannot read alert rules from ${source}: ${(err as Error).message}`, { cause: err });
  }
  const r = rulesSchema(env.WINDOW_ROWS).safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DriftlineError('DL_ERR_CONFIG', `Invalid alert rules in ${source}:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  return r.data;
}

/** What a rule sees in a snapshot: its value, whether it is in violation, and why. */
export interface Reading {
  /** false: not enough data to judge (too few rows or labels); the rule's state is kept. */
  applicable: boolean;
  value: number | null;
  threshold: number | null;
  /** In violation, by the plain threshold. */
  violated: boolean;
  /** Back within bounds with margin (numeric rules); undefined for yes/no rules. */
  clear?: boolean;
  values: Record<string, unknown>;
  drifted?: DriftedColumn[];
  title: string;
  message: string;
}

const pct = (v: number): string => `${Math.round(v * 1000) / 10}%`;
const num = (v: number | null): string => (v === null ? 'n/a' : formatNumber(v));

/** The model card's validation metrics: the baseline of the quality rules. */
export interface Baseline {
  accuracy: number | null;
  f1: number | null;
  roc_auc?: number | null;
}

export interface ReadContext {
  hysteresis: number;
  baseline: Baseline;
}

function driftedColumns(s: MonitorSnapshot): DriftedColumn[] {
  return Object.entries(s.features)
    .filter(([, f]) => f.drift)
    .map(([column, f]) => ({
      column,
      test: f.test,
      test_display_name: f.test_display_name,
      kind: hasStatTest(f.test) ? getStatTest(f.test).kind : 'distance',
      score: f.score,
      threshold: f.threshold,
    }));
}

/** A quality metric against the card's: violated when it fell more than `threshold` below it. */
function qualityDrop(
  rule: { threshold: number; min_labels: number },
  s: MonitorSnapshot,
  h: number,
  metric: 'accuracy' | 'f1',
  label: string,
  base: number | null,
): Reading {
  const current = s.performance[metric];
  const n = s.performance.n_labelled;
  const drop = current === null || base === null ? null : base - current;
  return {
    applicable: drop !== null && n >= rule.min_labels,
    value: drop,
    threshold: rule.threshold,
    violated: drop !== null && drop > rule.threshold,
    clear: drop !== null && drop <= rule.threshold * (1 - h),
    values: { [metric]: current, [`validation_${metric}`]: base, drop, n_labelled: n },
    title: `${label} dropped below the model card's`,
    message: `${label} ${num(current)} on ${n} labelled rows vs ${num(base)} at validation (model card): a drop of ${num(drop)}, threshold ${rule.threshold}`,
  };
}

/**
 * An estimated metric (CBPE, no labels needed) against the card's: violated when the estimate
 * fell more than `threshold` below it. Not judged before `min_rows` rows, nor without a
 * calibration map in the reference profile.
 */
function estimatedDrop(
  rule: { threshold: number; min_rows: number },
  s: MonitorSnapshot,
  h: number,
  metric: 'f1' | 'roc_auc',
  label: string,
  base: number | null,
): Reading {
  const e = s.performance_estimate;
  const current = e?.[metric] ?? null;
  const drop = current === null || base === null ? null : base - current;
  const band = e?.bands[metric] ?? null;
  return {
    applicable: drop !== null && s.window_rows >= rule.min_rows,
    value: drop,
    threshold: rule.threshold,
    violated: drop !== null && drop > rule.threshold,
    clear: drop !== null && drop <= rule.threshold * (1 - h),
    values: { [`estimated_${metric}`]: current, band, [`validation_${metric}`]: base, drop, window_rows: s.window_rows },
    title: `Estimated ${label} dropped below the model card's`,
    message: `estimated ${label} ${num(current)} (band ${band === null ? 'n/a' : `${num(band[0])}–${num(band[1])}`}) over ${s.window_rows} rows, before labels, vs ${num(base)} at validation (model card): a drop of ${num(drop)}, threshold ${rule.threshold}`,
  };
}

/** One feature's share of one kind above its threshold. */
export interface QualityBreach {
  feature: string;
  kind: QualityKind;
  share: number;
  threshold: number;
}

const QUALITY_KINDS = ['missing', 'invalid', 'unseen'] as const satisfies readonly QualityKind[];

/** Every feature and kind whose share is above its threshold, worst first. */
export function qualityBreaches(s: MonitorSnapshot, thresholds: Record<QualityKind, number>): QualityBreach[] {
  const out: QualityBreach[] = [];
  for (const [feature, q] of Object.entries(s.data_quality ?? {})) {
    for (const kind of QUALITY_KINDS) {
      const share = q[`${kind}_share`];
      if (share !== null && share > thresholds[kind]) out.push({ feature, kind, share, threshold: thresholds[kind] });
    }
  }
  return out.sort((a, b) => b.share / Math.max(b.threshold, 1e-12) - a.share / Math.max(a.threshold, 1e-12));
}

export function read(rule: RuleConfig, s: MonitorSnapshot, ctx: ReadContext): Reading {
  const h = ctx.hysteresis;
  switch (rule.kind) {
    case 'dataset_drift_share': {
      const v = s.dataset.share_drifted;
      const drifted = driftedColumns(s);
      return {
        applicable: s.window_rows >= rule.min_rows,
        value: v,
        threshold: rule.threshold,
        violated: v > rule.threshold,
        clear: v <= rule.threshold * (1 - h),
        values: {
          share_drifted: v,
          n_drifted: s.dataset.n_drifted,
          n_columns: s.dataset.n_columns,
          drifted_features: drifted.map((d) => d.column),
          window_rows: s.window_rows,
        },
        drifted,
        title: 'Dataset drift share above threshold',
        message: `${pct(v)} of features drifted (${drifted.map((d) => d.column).join(', ') || 'none'}), threshold ${pct(rule.threshold)}, over ${s.window_rows} rows`,
      };
    }
    case 'feature_drift': {
      const drifted = driftedColumns(s);
      return {
        applicable: s.window_rows >= rule.min_rows,
        // A count against "more than none" says nothing; each column's own test and threshold do.
        value: null,
        threshold: null,
        violated: drifted.length > 0,
        values: { n_drifted: drifted.length, n_columns: s.dataset.n_columns, window_rows: s.window_rows },
        drifted,
        title: 'Feature drift',
        message:
          drifted.length === 0
            ? `no feature drifted over ${s.window_rows} rows`
            : `${drifted.length} of ${s.dataset.n_columns} features drifted over ${s.window_rows} rows: ${drifted.map(driftLine).join('; ')}`,
      };
    }
    case 'prediction_drift': {
      const p = s.prediction;
      return {
        applicable: p !== null && s.window_rows >= rule.min_rows,
        value: p?.score ?? null,
        threshold: p?.threshold ?? null,
        violated: p?.drift ?? false,
        values: p === null ? {} : { test: p.test, score: p.score, threshold: p.threshold, window_rows: s.window_rows },
        title: 'Prediction drift',
        message: p === null ? 'no prediction profile' : `model output drift: ${p.test} ${num(p.score)} (threshold ${p.threshold})`,
      };
    }
    case 'f1_drop':
      return qualityDrop(rule, s, h, 'f1', 'F1', ctx.baseline.f1);
    case 'accuracy_drop':
      return qualityDrop(rule, s, h, 'accuracy', 'Accuracy', ctx.baseline.accuracy);
    case 'estimated_f1_drop':
      return estimatedDrop(rule, s, h, 'f1', 'F1', ctx.baseline.f1);
    case 'estimated_roc_auc_drop':
      return estimatedDrop(rule, s, h, 'roc_auc', 'ROC-AUC', ctx.baseline.roc_auc ?? null);
    case 'data_quality': {
      const n = s.data_quality_rows ?? 0;
      const breaches = qualityBreaches(s, rule.thresholds);
      const list = breaches.map((b) => `${b.feature} ${b.kind} ${pct(b.share)} (threshold ${pct(b.threshold)})`).join('; ');
      return {
        applicable: n >= rule.min_rows,
        // Several shares against three thresholds have no single value: a yes/no rule, which
        // resolves after clear_evaluations clean readings.
        value: null,
        threshold: null,
        violated: breaches.length > 0,
        values: { breaches, thresholds: rule.thresholds, rows: n },
        title: 'Data quality: missing, invalid or unseen values above threshold',
        message: breaches.length === 0 ? `no feature above its data-quality thresholds over ${n} rows` : `over the last ${n} rows: ${list}`,
      };
    }
    case 'f1_below': {
      const { f1, n_labelled } = s.performance;
      return {
        applicable: f1 !== null && n_labelled >= rule.min_labels,
        value: f1,
        threshold: rule.threshold,
        violated: f1 !== null && f1 < rule.threshold,
        clear: f1 !== null && f1 >= rule.threshold * (1 + h),
        values: { ...s.performance, validation_f1: ctx.baseline.f1 },
        title: 'F1 below threshold',
        message: `F1 ${num(f1)} on ${n_labelled} labelled rows, absolute threshold ${rule.threshold} (${num(ctx.baseline.f1)} at validation)`,
      };
    }
    case 'concept_drift': {
      const c = s.concept;
      return {
        applicable: true,
        value: c.statistic,
        threshold: c.threshold,
        violated: c.detected_at !== null && (c.since_detection ?? 0) < rule.clear_after,
        values: { ...c },
        title: 'Concept drift (Page-Hinkley on prediction errors)',
        message: c.detected_at === null ? 'no change detected' : `the error rate rose: Page-Hinkley detected a change at ${c.detected_at}`,
      };
    }
  }
}
