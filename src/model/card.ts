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
  })
  .catchall(z.unknown());

export const modelCardSchema = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    task: z.literal('binary-classification').default('binary-classification'),
    /** File name of the ONNX graph, relative to the card. */
    model_file: z.string().min(1).default('model.onnx'),
    input_name: z.string().min(1),
    features: z.array(featureSchema).min(1),
    target: z
      .object({ name: z.string().min(1), aliases: z.array(z.string().min(1)).default([]) })
      .optional(),
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
  })
  .superRefine((card, ctx) => {
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
export function originalResult(card: Pick<ModelCard, 'labels'>, r: { row: number; probability: number; prediction: number; risk_level: string }): OriginalResult {
  return { row: r.row, probability: roundProbability(r.probability), prediction: decisionLabel(card, r.prediction), risk_level: r.risk_level };
}
