// One way to make a model card: `driftline init` (any ONNX classifier) and `driftline train`
// (the bundled model) both assemble theirs here and check it with the schema the service loads
// it with, so a card written by either reads the same.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModelCard, type CardInput, type ModelCard } from '../model/card.js';
import type { BinaryMetrics } from '../model/metrics.js';

/** Six decimals: finer digits are noise next to a few thousand validation rows and only churn diffs. */
export function round(x: number, digits = 6): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_RISK = { high: 0.75, medium: 0.5 } as const;

export interface CardFeature {
  name: string;
  type: 'number' | 'integer' | 'string';
  /** A string feature's categories, learned from the training rows. */
  categories?: string[] | undefined;
  min?: number | undefined;
  max?: number | undefined;
  aliases?: string[];
  description?: string | undefined;
}

export interface CardParts {
  name: string;
  version: string;
  description?: string | undefined;
  features: readonly CardFeature[];
  /** One [N, features] float32 input (the short form) or the full mapping. */
  input: { name: string } | { inputs: CardInput[] };
  target: { name: string; aliases?: string[] };
  output: { name: string; index?: number | undefined };
  labels?: [string, string];
  decisionThreshold?: number;
  risk?: { high: number; medium: number };
  /** Held-out metrics at the decision threshold; brier when the caller computed it. */
  validation?: (BinaryMetrics & { brier?: number }) | undefined;
  /** Permutation importance per feature, in `features` order, on the held-out rows. */
  importance?: readonly number[] | undefined;
  training?: Record<string, unknown>;
  source?: { file: string; sha256: string };
}

export function sha256File(file: string): { file: string; sha256: string } {
  return { file: path.basename(file), sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

/** The card's `metrics.validation`, rounded, in a fixed key order (the card is compared byte for byte). */
function validationBlock(v: BinaryMetrics & { brier?: number }, threshold: number): Record<string, number> {
  return {
    roc_auc: round(v.roc_auc),
    accuracy: round(v.accuracy),
    f1: round(v.f1),
    precision: round(v.precision),
    recall: round(v.recall),
    ...(v.brier === undefined ? {} : { brier: round(v.brier) }),
    rows: v.rows,
    positives: v.positives,
    decision_threshold: threshold,
  };
}

/** Builds the card and checks it with the same schema the service loads it with. */
export function composeCard(p: CardParts): ModelCard {
  const threshold = p.decisionThreshold ?? DEFAULT_THRESHOLD;
  const v = p.validation;
  return parseModelCard(
    {
      name: p.name,
      version: p.version,
      ...(p.description === undefined ? {} : { description: p.description }),
      task: 'binary-classification',
      model_file: 'model.onnx',
      ...('inputs' in p.input ? { inputs: p.input.inputs } : { input_name: p.input.name }),
      features: p.features.map((f, j) => ({
        name: f.name,
        type: f.type,
        min: f.min,
        max: f.max,
        ...(f.categories === undefined ? {} : { categories: f.categories }),
        aliases: f.aliases ?? [],
        // A string column has no order or distance: its drift is tested as categories.
        categorical: f.type === 'string',
        ...(p.importance === undefined ? {} : { importance: round(p.importance[j]!) }),
        description: f.description,
      })),
      target: { name: p.target.name, aliases: p.target.aliases ?? [] },
      output: p.output,
      classes: [0, 1],
      labels: p.labels ?? ['No Default', 'Default'],
      decision_threshold: threshold,
      risk_levels: p.risk ?? DEFAULT_RISK,
      ...(v === undefined ? {} : { metrics: { validation: validationBlock(v, threshold) } }),
      ...(p.training === undefined ? {} : { training: p.training }),
      ...(p.source === undefined ? {} : { source: p.source }),
    },
    'generated model card',
  );
}
