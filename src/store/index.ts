export { openDatabase, migrate, schemaVersion } from './db.js';
export type { Db } from './db.js';
export { PredictionLog } from './prediction-log.js';
export type { AppendInput, LoggedRow, WindowRow, PredictionLogOptions } from './prediction-log.js';
export { databaseFile } from './paths.js';
export { DriftHistory } from './drift-history.js';
export type { HistoryPoint } from './drift-history.js';
