export { openDatabase, migrate, schemaVersion } from './db.js';
export type { Db } from './db.js';
export { PredictionLog } from './prediction-log.js';
export type { AppendInput, PredictionLogOptions } from './prediction-log.js';
export { LogReader } from './log-reader.js';
export type { LoggedRow, WindowRow } from './log-reader.js';
export { databaseFile } from './paths.js';
export { DriftHistory } from './drift-history.js';
export type { HistoryPoint } from './drift-history.js';
