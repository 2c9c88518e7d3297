// The monitor room's public surface: callers import from here, the implementation lives beside it.
export { DriftMonitor, historyPoint, originalDrift, writeReport } from './drift-monitor.js';
export type { ConceptDrift, EstimateSnapshot, MonitorOptions, MonitorSnapshot, ValidationMetrics } from './drift-monitor.js';
export { EstimatedPerformance } from './estimated-performance.js';
export type { Band, PerformanceEstimate } from './estimated-performance.js';
export { RollingPerformance } from './performance.js';
export type { Performance } from './performance.js';
export { PageHinkley, PAGE_HINKLEY_DEFAULTS } from './page-hinkley.js';
export type { PageHinkleyOptions } from './page-hinkley.js';
export { DataQualityRing, qualityKindOf } from './data-quality.js';
export type { DataQuality, FeatureQuality, QualityKind } from './data-quality.js';
