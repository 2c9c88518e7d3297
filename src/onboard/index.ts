// Onboarding a model: what `driftline init` does (graph → card, reference), and the card and
// reference builders that `driftline train` shares with it.
export { buildModelProfile, featureRequests, predictColumns, profileOfRows, REFERENCE_FILE, targetRequest } from './profile.js';
export type { ModelProfileOptions, ProfileRows } from './profile.js';
export { composeCard, round, sha256File, DEFAULT_RISK, DEFAULT_THRESHOLD } from './card.js';
export type { CardParts, CardFeature } from './card.js';
export { initModel, DEFAULT_VALIDATION_FRACTION, DEFAULT_SPLIT_SEED } from './init.js';
export type { InitOptions, InitResult } from './init.js';
export { planInputs } from './plan.js';
export type { InputPlan, PlanOptions } from './plan.js';
export { learnedRange, RANGE_MARGIN } from './ranges.js';
