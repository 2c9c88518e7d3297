export { modelCardSchema, parseModelCard, readModelCard, decision, decisionLabel, riskLevel, roundProbability, originalResult, PROBABILITY_DECIMALS, PROBABILITY_SCALE } from './card.js';
export type { ModelCard, FeatureSpec, RiskLevel, OriginalResult } from './card.js';
export { InferenceEngine } from './inference.js';
export type { InferenceResult } from './inference.js';
export { sessionSpec, openSession, runSession } from './session.js';
export type { SessionSpec } from './session.js';
export { loadModel, CARD_FILE } from './load.js';
export type { LoadedModel } from './load.js';
