// The traffic simulator: synthetic rows from a reference profile, optionally drifted, sent to
// /predict on a schedule. Knows nothing of the server; the server and the CLI drive it.
export { TrafficGenerator, featureNames } from './generator.js';
export type { GeneratorOptions } from './generator.js';
export { parseScenarios, applyScenarios, describeScenarios, parseDuration } from './scenario.js';
export type { DriftScenario } from './scenario.js';
export { runTraffic } from './loop.js';
export type { TrafficOptions, TrafficTotals, SendResult, RequestReport } from './loop.js';
export { postCsv, predictUrl, whyNoResponse } from './http.js';
export type { PostOptions } from './http.js';
export { mulberry32 } from './prng.js';
export { parseIntRange, parseDurationRange } from './ranges.js';
