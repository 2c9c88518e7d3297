// The monitor room's public surface: callers import from here, the implementation lives beside it.
export { DriftMonitor, historyPoint, originalDrift, writeReport } from './drift-monitor.js';
export type { ConceptDrift, MonitorOptions, MonitorSnapshot } from './drift-monitor.js';
export { RollingPerformance } from './performance.js';
export type { Performance } from './performance.js';
export { PageHinkley, PAGE_HINKLEY_DEFAULTS } from './page-hinkley.js';
export type { PageHinkleyOptions } from './page-hinkley.js';
