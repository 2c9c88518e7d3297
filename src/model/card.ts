import { z } from 'zod';
import { checkWith, readJsonFile, type Checked } from '../json-file.js';

// The model card is the contract between a trained model and everything that feeds it: which
// columns, in which order, with which names and ranges, and how to read its output. It sits
// beside model.onnx as card.json.

const featureSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(['number', 'integer']).default('number'),
    /** Inclusive bounds; values outside are rejected row by row. */
    min: z.number().optional(),
    max: z.number().optional(),
    /** Other column names accepted for this feature (e.g. the raw UCI names). */
    aliases: z.array(z.string().min(1)).default([]),
    /** Drift: treat as categorical rather than numerical. */
    categorical: z.boolean().default(false),
    /** Permutation importance on the held-out rows (fall in ROC-AUC when shuffled): weighs its drift. */
    importance: z.number().finite().optional(),
    description: z.string().optional(),
  })
  .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
    error: 'min must be ≤ max',
  });

const metricsSchema = z
  .object({
    roc_auc: z.number().min(0).max(1),
    accuracy: z.number().min(0).max(1),
    f1: z.number().min(0).max(1),
    precision: z.number().min(0).max(1).optional(),
    recall: z.number().min(0).max(1).optional(),
    /** Mean squared error of P(class 1) against the 0/1 label (sklearn's brier_score_loss). */
    brier: z.number().min(0).max(1).optional(),
    rows: z.number().int().min(0).optional(),
    positives: z.number().int().min(0).optional(),
    /** The threshold accuracy, precision, recall and F1 were taken at. */
    decision_threshold: z.number().min(0).max(1).optional(),
  })
  .catchall(z.unknown());

/** Element types of the ONNX input tensors the service can feed, as onnxruntime names them. */
export const INPUT_TYPES = ['float32', 'float64', 'int64'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

// One entry per ONNX graph input: which card features fill its last dimension, in order. A
// list rather than one name because exporters emit one input per DataFrame column; a later
// element type (string, for categorical columns) is a new `type` value, not a new shape.
const inputSchema = z.object({
  name: z.string().min(1),
  /** Card feature names, in the order of the input's last dimension ([N, columns.length]). */
  columns: z.array(z.string().min(1)).min(1),
  type: z.enum(INPUT_TYPES).default('float32'),
});

export const modelCardSchema = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    task: z.literal('binary-classification').default('binary-classification'),
    /** File name of the ONNX graph, relative to the card. */
    model_file: z.string().min(1).default('model.onnx'),
    /** The single [N, features] float32 input; the short form of `inputs`. */
    input_name: z.string().min(1).optional(),
    /** How card features feed the graph's inputs; when absent, all of them go to `input_name`. */
    inputs: z.array(inputSchema).min(1).optional(),
    features: z.array(featureSchema).min(1),
    target: z.object({ name: z.string().min(1), aliases: z.array(z.string().min(1)).default([]) }).optional(),
    output: z.object({
      /** The output tensor that holds class probabilities. */
      name: z.string().min(1),
      /** Column of P(class 1) in a [N, k] output; omit for a [N] or [N, 1] output. */
      index: z.number().int().min(0).optional(),
    }),
    classes: z.tuple([z.unknown(), z.unknown()]).default([0, 1]),
    labels: z.tuple([z.string(), z.string()]).default(['No Default', 'Default']),
    decision_threshold: z.number().min(0).max(1).default(0.5),
    /** Risk level cut-offs on P(class 1): High ≥ high, Medium ≥ medium, else Low. */
    risk_levels: z
      .object({ high: z.number().min(0).max(1), medium: z.number().min(0).max(1) })
      .refine((r) => r.medium <= r.high, { error: 'medium must be ≤ high' })
      .default({ high: 0.75, medium: 0.5 }),
    metrics: z.object({ validation: metricsSchema }).catchall(z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
    /** The ONNX file the card was made for: its SHA-256 (hex) and file name. */
    source: z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  })
  .superRefine((card, ctx) => {
    if ((card.input_name === undefined) === (card.inputs === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['input_name'],
        message: 'give either input_name (one [N, features] input) or inputs, not both or neither',
      });
    }
    if (card.inputs !== undefined) {
      const fed = card.inputs.flatMap((i) => i.columns);
      const names = card.features.map((f) => f.name);
      const unknown = fed.filter((c) => !names.includes(c));
      const unfed = names.filter((n) => !fed.includes(n));
      const twice = fed.filter((c, i) => fed.indexOf(c) !== i);
      if (unknown.length + unfed.length + twice.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['inputs'],
          message: `inputs must feed every feature exactly once (${[
            unknown.length > 0 ? `not features: ${unknown.join(', ')}` : '',
            unfed.length > 0 ? `not fed: ${unfed.join(', ')}` : '',
            twice.length > 0 ? `fed twice: ${twice.join(', ')}` : '',
          ]
            .filter((x) => x !== '')
            .join('; ')})`,
        });
      }
    }
    const seen = new Map<string, string>();
    for (const f of card.features) {
      for (const n of [f.name, ...f.aliases]) {
        const owner = seen.get(n);
        if (owner !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['features'], message: `column name "${n}" is used by both ${owner} and ${f.name}` });
        }
        seen.set(n, f.name);
      }
    }
    if (card.target !== undefined && seen.has(card.target.name)) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `target "${card.target.name}" is also a feature` });
    }
  });

export type ModelCard = z.infer<typeof modelCardSchema>;
export type FeatureSpec = ModelCard['features'][number];
export type CardInput = z.infer<typeof inputSchema>;

/** The card's input mapping, with the `input_name` short form spelled out. */
export function cardInputs(card: Pick<ModelCard, 'input_name' | 'inputs' | 'features'>): CardInput[] {
  return card.inputs ?? [{ name: card.input_name!, columns: card.features.map((f) => f.name), type: 'float32' }];
}
export type RiskLevel = 'Low' | 'Medium' | 'High';

const CARD: Checked = { code: 'DL_ERR_MODEL_CARD', what: 'model card' };

export function parseModelCard(raw: unknown, source = 'model card'): ModelCard {
  return checkWith(modelCardSchema, raw, CARD, source);
}

export function readModelCard(file: string): ModelCard {
  return readJsonFile(file, modelCardSchema, CARD);
}

// What a prediction means, written once: every writer (the response formats, the live feed, the
// log reader, the dashboard's reads, the report file, the quality metrics) calls these, so a
// card's thresholds cannot be read one way in one room and another way in the next.

/** 1 when P(class 1) reaches the card's decision threshold, else 0. */
export function decision(card: Pick<ModelCard, 'decision_threshold'>, p: number): 0 | 1 {
  return p >= card.decision_threshold ? 1 : 0;
}

/** The card's label for a decision (class 0 or 1). */
export function decisionLabel(card: Pick<ModelCard, 'labels'>, d: number): string {
  return card.labels[d === 1 ? 1 : 0];
}

export function riskLevel(card: Pick<ModelCard, 'risk_levels'>, p: number): RiskLevel {
  if (p >= card.risk_levels.high) return 'High';
  if (p >= card.risk_levels.medium) return 'Medium';
  return 'Low';
}

/** The original service's rounding of a probability: 4 decimals. */
export const PROBABILITY_DECIMALS = 4;
export const PROBABILITY_SCALE = 10 ** PROBABILITY_DECIMALS;

export function roundProbability(p: number): number {
  return Math.round(p * PROBABILITY_SCALE) / PROBABILITY_SCALE;
}

/** A prediction as the original service reported it: `{row, probability, prediction, risk_level}`. */
export interface OriginalResult {
  row: number;
  probability: number;
  prediction: string;
  risk_level: string;
}

/**
 * A logged prediction in the original shape. The decision and risk level are the ones logged
 * (taken with the thresholds of their time); only the label's spelling comes from `card`.
 */
export function originalResult(
  card: Pick<ModelCard, 'labels'>,
  r: { row: number; probability: number; prediction: number; risk_level: string },
): OriginalResult {
  return {
    row: r.row,
    probability: roundProbability(r.probability),
    prediction: decisionLabel(card, r.prediction),
    risk_level: r.risk_level,
  };
}

/**
 * The card's JSON Schema, generated from the zod schema (what a card may hold as written, so
 * defaulted fields are optional). docs/models.md carries it; test/docs-models.test.ts keeps the
 * two equal. Cross-field rules (no name used twice, inputs feeding every feature once) are not
 * expressible there and are listed in the document instead.
 */
export function modelCardJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(modelCardSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
