import type { Logger } from '../../log.js';
import type { StoreHealth } from '../../store/index.js';
import type { ServiceState } from '../state.js';

// How often the leader looks: one read of log_head when nothing is due, so no setting; a log
// that outgrew LOG_RETENTION_ROWS for a second holds a second's rows more.
const EVERY_MS = 1000;

/**
 * Retention for a log that does not prune as it appends (the shared PostgreSQL log): every
 * second, on the leader only, so that replicas do not race to delete the
 * same rows. One pass at a time; a pass that fails is logged and the next tick tries again.
 * Returns the function that stops it.
 */
export function startRetention(s: ServiceState, parts: { log: Logger; health: StoreHealth }): () => void {
  const { store, config } = s;
  if (store.prune === undefined) return () => undefined;
  const prune = store.prune.bind(store);
  let running = false;
  const timer = setInterval(() => {
    if (running || !s.alerting.isLeader) return;
    running = true;
    prune(config.LOG_RETENTION_ROWS)
      .then(
        (deleted) => {
          if (deleted > 0) parts.log.info({ deleted, kept: config.LOG_RETENTION_ROWS }, 'retention: deleted the oldest rows of the log');
        },
        (err: unknown) => parts.log.warn({ err: parts.health.check(err) }, 'retention: could not prune the log; trying again later'),
      )
      .finally(() => {
        running = false;
      });
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
