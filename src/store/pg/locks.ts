// Every advisory lock key driftline takes, in one place, so that no two uses collide. Advisory
// locks are per database: two deployments on separate databases of one server never meet.
// The values spell ASCII tags, unlikely to clash with another application's keys in a shared
// database.

/** Transaction lock around schema migration: replicas starting together migrate once (schema.ts). */
export const MIGRATION_LOCK = 0x6472_6966; // "drif"

/**
 * Session lock held by the cluster's leader on its elector's own connection (leader.ts): the
 * replica that holds it does the singleton work (alert rules, the outbox, drift history,
 * retention). PostgreSQL frees it when that session ends, however it ends.
 */
export const LEADER_LOCK = 0x6472_6c64; // "drld"
