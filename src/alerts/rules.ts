import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DriftlineError } from '../errors.js';
import type { MonitorSnapshot } from '../monitor/index.js';

const severity = z.enum(['info', 'warning', 'critical']);
const common = { enabled: z.boolean().default(true) };

// The original service's checks, as defaults: drift share > 0.2, any feature drifted,
// prediction drift, F1 < 0.7 and an accuracy drop > 0.05 once labels exist; plus concept drift.
export const ruleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dataset_drift_share'), threshold: z.number().min(0).max(1).default(0.2), severity: severity.default('warning'), min_rows: z.number().int().min(1).default(100), ...common }),
  z.object({ kind: z.literal('feature_drift'), severity: severity.default('warning'), min_rows: z.number().int().min(1).default(100), ...common }),
  z.object({ kind: z.literal('prediction_drift'), severity: severity.default('warning'), min_rows: z.number().int().min(1).default(100), ...common }),
  z.object({ kind: z.literal('f1_below'), threshold: z.number().min(0).max(1).default(0.7), severity: severity.default('critical'), min_labels: z.number().int().min(1).default(100), ...common }),
  z.object({ kind: z.literal('accuracy_drop'), threshold: z.number().min(0).max(1).default(0.05), severity: severity.default('critical'), min_labels: z.number().int().min(1).default(100), ...common }),
  z.object({ kind: z.literal('concept_drift'), severity: severity.default('critical'), clear_after: z.number().int().min(1).default(100), ...common }),
]);
export type RuleConfig = z.infer<typeof ruleSchema>;

export const rulesConfigSchema = z.object({
  rules: z.array(ruleSchema).default(() => DEFAULT_RULES.map((r) => ruleSchema.parse(r))),
  /** A numeric rule resolves only once its value is this far (relative) inside the threshold. */
  hysteresis: z.number().min(0).max(1).default(0.1),
  /** A yes/no rule resolves only after this many clean evaluations in a row. */
  clear_evaluations: z.number().int().min(1).default(3),
});
export type RulesConfig = z.infer<typeof rulesConfigSchema>;

export const DEFAULT_RULES: readonly { kind: RuleConfig['kind'] }[] = [
  { kind: 'dataset_drift_share' },
  { kind: 'feature_drift' },
  { kind: 'prediction_drift' },
  { kind: 'f1_below' },
  { kind: 'accuracy_drop' },
  { kind: 'concept_drift' },
];

/** Rules from ALERT_RULES (a JSON string) or ALERT_RULES_FILE (a JSON file), else the defaults. */
export function loadRules(env: { ALERT_RULES?: string | undefined; ALERT_RULES_FILE?: string | undefined }): RulesConfig {
  let raw: unknown = {};
  const source = env.ALERT_RULES !== undefined ? 'ALERT_RULES' : env.ALERT_RULES_FILE;
  try {
    if (env.ALERT_RULES !== undefined) raw = JSON.parse(env.ALERT_RULES);
    else if (env.ALERT_RULES_FILE !== undefined) raw = JSON.parse(readFileSync(env.ALERT_RULES_FILE, 'utf8'));
  } catch (err) {
    throw new DriftlineError('DL_ERR_CONFIG', `Cannot read alert rules from ${source}: ${(err as Error).message}`, { cause: err });
  }
  const r = rulesConfigSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DriftlineError('DL_ERR_CONFIG', `Invalid alert rules in ${source}:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
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
  title: string;
  message: string;
}

const pct = (v: number): string => `${Math.round(v * 1000) / 10}%`;
const num = (v: number | null): string => (v === null ? 'n/a' : String(Math.round(v * 10_000) / 10_000));

export function read(rule: RuleConfig, s: MonitorSnapshot, ctx: { hysteresis: number; baselineAccuracy: number | null }): Reading {
  const h = ctx.hysteresis;
  switch (rule.kind) {
    case 'dataset_drift_share': {
      const v = s.dataset.share_drifted;
      const drifted = Object.entries(s.features).filter(([, f]) => f.drift).map(([n]) => n);
      return {
        applicable: s.window_rows >= rule.min_rows,
        value: v,
        threshold: rule.threshold,
        violated: v > rule.threshold,
        clear: v <= rule.threshold * (1 - h),
        values: { share_drifted: v, n_drifted: s.dataset.n_drifted, n_columns: s.dataset.n_columns, drifted_features: drifted, window_rows: s.window_rows },
        title: 'Dataset drift share above threshold',
        message: `${pct(v)} of features drifted (${drifted.join(', ') || 'none'}), threshold ${pct(rule.threshold)}, over ${s.window_rows} rows`,
      };
    }
    case 'feature_drift': {
      const drifted = Object.entries(s.features).filter(([, f]) => f.drift);
      const detail = Object.fromEntries(drifted.map(([n, f]) => [n, { test: f.test, score: f.score, threshold: f.threshold }]));
      return {
        applicable: s.window_rows >= rule.min_rows,
        value: drifted.length,
        threshold: 0,
        violated: drifted.length > 0,
        values: { drifted: detail, window_rows: s.window_rows },
        title: 'Feature drift',
        message: drifted.length === 0 ? 'no feature drifted' : drifted.map(([n, f]) => `${n}: ${f.test} ${num(f.score)} (threshold ${f.threshold})`).join('; '),
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
    case 'f1_below': {
      const { f1, n_labelled } = s.performance;
      return {
        applicable: f1 !== null && n_labelled >= rule.min_labels,
        value: f1,
        threshold: rule.threshold,
        violated: f1 !== null && f1 < rule.threshold,
        clear: f1 !== null && f1 >= rule.threshold * (1 + h),
        values: { ...s.performance },
        title: 'F1 below threshold',
        message: `F1 ${num(f1)} on ${n_labelled} labelled rows, threshold ${rule.threshold}`,
      };
    }
    case 'accuracy_drop': {
      const { accuracy, n_labelled } = s.performance;
      const base = ctx.baselineAccuracy;
      const drop = accuracy === null || base === null ? null : base - accuracy;
      return {
        applicable: drop !== null && n_labelled >= rule.min_labels,
        value: drop,
        threshold: rule.threshold,
        violated: drop !== null && drop > rule.threshold,
        clear: drop !== null && drop <= rule.threshold * (1 - h),
        values: { accuracy, validation_accuracy: base, drop, n_labelled },
        title: 'Accuracy dropped',
        message: `accuracy ${num(accuracy)} on ${n_labelled} labelled rows vs ${num(base)} at validation: a drop of ${num(drop)}, threshold ${rule.threshold}`,
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
