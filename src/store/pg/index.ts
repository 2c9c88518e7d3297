// The prediction log, leader election and the alert outbox on PostgreSQL (issue 19). Not yet
// wired into the service: a later step adds DATABASE_URL and the interface both stores share.
export { PgPredictionLog, WRITER_APP, writeBatches } from './prediction-log.js';
export type { Appended, PgPredictionLogOptions } from './prediction-log.js';
export { Follower, FOLLOWER_APP } from './follow.js';
export type { FollowOptions } from './follow.js';
export type { CommittedBatch } from './batch.js';
export { migrate, schemaVersion, SCHEMA_VERSION } from './schema.js';
export { LeaderElector, ELECTOR_APP } from './leader.js';
export type { ElectorOptions } from './leader.js';
export { LEADER_LOCK, MIGRATION_LOCK } from './locks.js';
export { PgAlertOutbox, OUTBOX_APP } from './outbox.js';
export type { PgAlertOutboxOptions } from './outbox.js';
export { PgDriftHistory, HISTORY_APP } from './history.js';
export type { PgDriftHistoryOptions } from './history.js';
