import type { DecodedBatch, LoggedRow, WindowRow } from './log-reader.js';
import type { AppendItem } from './log-protocol.js';
import type { HistoryPoint } from './drift-history.js';

/** A value now (SQLite reads on the calling thread) or later (PostgreSQL). Callers await both. */
export type Awaitable<T> = T | Promise<T>;

/** What the service asks of a prediction log, whichever store holds it. */
export interface LogStore {
  /** Resolves once the batch is committed: nothing is acknowledged that a crash could lose. */
  append(input: AppendItem): Promise<{ first: number; count: number }>;
  /** Labels rows by id (feedback); ids not in the log are ignored. Returns how many were labelled. */
  label(ids: number[], targets: number[]): Promise<number>;
  count(): Awaitable<number>;
  /** The newest rows, newest first. */
  recent(limit: number): Awaitable<LoggedRow[]>;
  /** Up to `limit` rows with ids after `afterId`, in id order. */
  page(afterId: number, limit: number): Awaitable<LoggedRow[]>;
  findByRequestRow(pairs: readonly { requestId: string; row: number }[]): Awaitable<Map<string, number>>;
  findByExtId(ids: readonly string[]): Awaitable<Map<string, number>>;
  /**
   * Retention run apart from appends (the shared log: by the leader only). A store that prunes
   * as it appends (SQLite's writer) has none.
   */
  prune?(keepRows: number): Promise<number>;
  close(): Promise<void>;
}

/** What a log fills: the drift window (DriftMonitor). */
export interface WindowFeed {
  rebuild(rows: readonly WindowRow[]): void;
  /** A batch committed to the shared log, by any replica. */
  applyBatch(batch: DecodedBatch): void;
  /** A label sent to any replica: applied if the row is in the window. */
  label(id: number, target: number): boolean;
}

/**
 * What the service asks of the drift history, whichever store holds it: the SQLite file of one
 * node, or PostgreSQL, where every replica reads it and the leader alone writes it.
 */
export interface HistoryStore {
  /** Stores a point, and keeps only the newest DRIFT_HISTORY_RETENTION. */
  add(p: HistoryPoint): Awaitable<void>;
  /** Points from `sinceMs` on, oldest first, as their stored JSON text, read a page at a time. */
  pointsJson(sinceMs: number, limit?: number): Iterable<string> | AsyncIterable<string>;
  close(): Awaitable<void>;
}
