import { parseModelCard, type ModelCard } from '../model/card.js';
import type { BinaryMetrics } from '../model/metrics.js';
import { CREDIT_FEATURES, CREDIT_TARGET, type FeatureDef } from './features.js';

// The card is generated, never hand-edited: columns, order and domain come from features.ts,
// the numbers from this run. It holds no timestamp, so a retrain with the same data, split and
// seed reproduces it byte for byte, like the model.

export const INPUT_NAME = 'input';
export const MODEL_NAME = 'credit-default';

export interface CardInput {
  version: string;
  validation: BinaryMetrics;
  training: Record<string, unknown>;
  features?: readonly FeatureDef[];
}

/** Builds the card and checks it with the same schema the service loads it with. */
export function buildCard(input: CardInput): ModelCard {
  const features = input.features ?? CREDIT_FEATURES;
  const v = input.validation;
  return parseModelCard(
    {
      name: MODEL_NAME,
      version: input.version,
      description:
        'Probability that a credit-card client defaults on next month\'s payment (UCI "default of credit card clients", Taiwan 2005). ' +
        'Histogram-based gradient-boosted trees (leaf-wise, binary log-loss) trained by driftline\'s own TypeScript trainer and exported to ONNX.',
      task: 'binary-classification',
      model_file: 'model.onnx',
      input_name: INPUT_NAME,
      features: features.map((f) => ({
        name: f.name,
        type: f.type,
        min: f.min,
        max: f.max,
        aliases: [f.alias],
        categorical: false,
        description: f.description,
      })),
      target: { name: CREDIT_TARGET.name, aliases: [CREDIT_TARGET.alias] },
      output: { name: 'probabilities', index: 1 },
      classes: [0, 1],
      labels: ['No Default', 'Default'],
      decision_threshold: 0.5,
      risk_levels: { high: 0.75, medium: 0.5 },
      metrics: {
        validation: {
          roc_auc: round(v.roc_auc),
          accuracy: round(v.accuracy),
          f1: round(v.f1),
          precision: round(v.precision),
          recall: round(v.recall),
          rows: v.rows,
          positives: v.positives,
          decision_threshold: 0.5,
        },
      },
      training: input.training,
    },
    'generated model card',
  );
}

/** Six decimals: finer digits are noise next to a 6,000-row sample and only churn diffs. */
export function round(x: number, digits = 6): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
