import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriftWindow, snapshot, type DriftOverrides, type DriftSnapshot, type ReferenceProfile } from '../drift/index.js';
import type { DriftHistory, HistoryPoint, LoggedRow, WindowRow } from '../store/index.js';

export interface MonitorOptions {
  profile: ReferenceProfile;
  capacity: number;
  overrides: DriftOverrides;
  driftShareThreshold: number;
  history?: DriftHistory | undefined;
  historyMs: number;
  /** reports/drift_report.json, rewritten atomically with each persisted snapshot. */
  reportFile?: string | undefined;
  /** The newest predictions, for the report's `results` (the original service's shape). */
  recent?: (limit: number) => LoggedRow[];
  /** The card's class labels, [negative, positive]. */
  labels?: readonly [string, string];
}

export function historyPoint(s: DriftSnapshot): HistoryPoint {
  const brief = (c: DriftSnapshot['features'][string]) => ({ test: c.test, score: c.score, threshold: c.threshold, drift: c.drift });
  return {
    at: Date.parse(s.at),
    window_rows: s.window_rows,
    share_drifted: s.dataset.share_drifted,
    drift: s.dataset.drift,
    features: Object.fromEntries(Object.entries(s.features).map(([k, v]) => [k, brief(v)])),
    prediction: s.prediction === null ? null : brief(s.prediction),
  };
}

/**
 * The live drift state: the rolling window, the snapshot of it (recomputed only when the window
 * changed), and the log id of every row in the window so that labels arriving later can reach
 * it. Emits 'snapshot' with each freshly computed snapshot.
 */
export class DriftMonitor extends EventEmitter<{ snapshot: [DriftSnapshot] }> {
  readonly window: DriftWindow;
  private readonly logIds: Float64Array;
  private cached: { version: number; snap: DriftSnapshot } | undefined;
  private persistedVersion = -1;
  private lastSeq = -1;
  private persistedAt = 0;

  constructor(private readonly opts: MonitorOptions) {
    super();
    this.window = new DriftWindow(opts.profile, { capacity: opts.capacity });
    this.logIds = new Float64Array(opts.capacity).fill(-1);
  }

  /** Adds a row (the sketch stage's sink). */
  push(features: ArrayLike<number>, offset: number, probability: number, target: number, at?: number, logId = -1): number {
    const seq = this.window.push(features, offset, probability, target, at);
    this.logIds[seq % this.opts.capacity] = logId;
    this.lastSeq = seq;
    return seq;
  }

  /** Refills the window from the prediction log's last rows (oldest first), after a restart. */
  rebuild(rows: readonly WindowRow[]): void {
    this.window.clear();
    this.logIds.fill(-1);
    for (const r of rows) this.push(r.features, 0, r.probability, r.target, r.ts, r.id);
  }

  /** Applies a label to a logged row if it is still in the window. */
  label(logId: number, target: number): boolean {
    const w = this.window;
    const cap = this.opts.capacity;
    // Log ids grow with the window's sequence numbers, so the ring is sorted: binary search.
    const newest = this.lastSeq;
    let lo = newest - w.size + 1;
    let hi = newest;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const id = this.logIds[mid % cap]!;
      if (id === logId) return w.label(mid, target);
      if (id < logId) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }


  current(now: number = Date.now()): DriftSnapshot {
    const version = this.window.version;
    if (this.cached?.version !== version) {
      const snap = snapshot(this.opts.profile, this.window, { overrides: this.opts.overrides, driftShareThreshold: this.opts.driftShareThreshold, at: now });
      this.cached = { version, snap };
      this.emit('snapshot', snap);
    }
    return this.cached.snap;
  }

  get version(): number {
    return this.window.version;
  }

  /** Persists the snapshot if the window changed and DRIFT_HISTORY_MS has passed. */
  maybePersist(now: number = Date.now(), force = false): boolean {
    if (this.window.version === this.persistedVersion) return false;
    if (!force && now - this.persistedAt < this.opts.historyMs) return false;
    const snap = this.current(now);
    this.persistedVersion = this.window.version;
    this.persistedAt = now;
    this.opts.history?.add(historyPoint(snap));
    if (this.opts.reportFile !== undefined) writeReport(this.opts.reportFile, snap, this.opts.recent?.(100) ?? [], this.opts.labels);
    return true;
  }
}

/** reports/drift_report.json: the original service's shape plus the full snapshot, written atomically. */
export function writeReport(file: string, snap: DriftSnapshot, recent: readonly LoggedRow[], labels: readonly [string, string] = ['No Default', 'Default']): void {
  const body = {
    n_rows: snap.window_rows,
    results: recent.map((r) => ({ row: r.row, probability: Math.round(r.probability * 1e4) / 1e4, prediction: labels[r.prediction === 1 ? 1 : 0], risk_level: r.risk_level })),
    drift: Object.entries(snap.features).map(([column, f]) => ({ column, score: f.score })),
    snapshot: snap,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body));
  renameSync(tmp, file);
}
