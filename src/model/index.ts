export {
  modelCardSchema,
  modelCardJsonSchema,
  cardInputs,
  INPUT_TYPES,
  parseModelCard,
  readModelCard,
  decision,
  decisionLabel,
  riskLevel,
  roundProbability,
  originalResult,
  PROBABILITY_DECIMALS,
  PROBABILITY_SCALE,
} from './card.js';
export type { ModelCard, CardInput, InputType, FeatureSpec, RiskLevel, OriginalResult } from './card.js';
export { InferenceEngine } from './inference.js';
export type { InferenceResult } from './inference.js';
export { sessionSpec, openSession, runSession } from './session.js';
export type { SessionSpec, InputFeed } from './session.js';
export { describeGraph, readGraph, probabilityOutput, servedInputType, checkInputs, fixedDim } from './graph.js';
export type { GraphInfo, ValueInfo, ProbabilityOutput, Dims } from './graph.js';
export { loadModel, CARD_FILE } from './load.js';
export type { LoadedModel } from './load.js';
