import type { ModelCard } from '../model/card.js';
import type { BinaryMetrics } from '../model/metrics.js';
import { composeCard, round } from '../onboard/card.js';
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
  /** Permutation importance per feature on the validation rows. */
  importance?: readonly number[];
}

/** Builds the card by the same path as `driftline init` (src/onboard/card.ts). */
export function buildCard(input: CardInput): ModelCard {
  const features = input.features ?? CREDIT_FEATURES;
  return composeCard({
    name: MODEL_NAME,
    version: input.version,
    description:
      'Probability that a credit-card client defaults on next month\'s payment (UCI "default of credit card clients", Taiwan 2005). ' +
      "Histogram-based gradient-boosted trees (leaf-wise, binary log-loss) trained by driftline's own TypeScript trainer and exported to ONNX.",
    input: { name: INPUT_NAME },
    features: features.map((f) => ({ name: f.name, type: f.type, min: f.min, max: f.max, aliases: [f.alias], description: f.description })),
    target: { name: CREDIT_TARGET.name, aliases: [CREDIT_TARGET.alias] },
    output: { name: 'probabilities', index: 1 },
    labels: ['No Default', 'Default'],
    validation: input.validation,
    importance: input.importance,
    training: input.training,
  });
}

export { round };
