import type { Logger } from '../../log.js';
import type { SelfTraffic } from '../simulate.js';
import type { ReadinessGate } from './gate.js';
import type { OpenedState } from './open-state.js';

/**
 * The graceful stop: no new requests, uploads in flight drained up to SHUTDOWN_TIMEOUT_MS, the
 * last live rows published, WebSockets closed with 1001, then the state closed.
 */
export async function shutdown(
  log: Logger,
  parts: {
    selfTraffic: SelfTraffic | undefined;
    gate: ReadinessGate;
    closeListen: () => void;
    stopTimers: () => void;
    opened: OpenedState;
  },
): Promise<void> {
  const { state } = parts.opened;
  // First, so that no simulated request races the drain below.
  await parts.selfTraffic?.stop();
  parts.gate.close();
  parts.closeListen();
  const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), state.config.SHUTDOWN_TIMEOUT_MS).unref());
  const drained = await Promise.race([Promise.allSettled([...state.uploads]).then(() => 'drained' as const), deadline]);
  if (drained === 'timeout') log.warn({ uploads: state.uploads.size }, 'shutdown deadline passed with uploads in flight');
  parts.stopTimers();
  parts.opened.flushFeed();
  state.hub.closeAll(1001);
  await parts.opened.close();
  log.info('stopped');
}
