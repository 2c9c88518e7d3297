import type { Db } from './db.js';

/** A persisted snapshot, compact: per-feature test, score and decision (no histograms). */
export interface HistoryPoint {
  at: number;
  window_rows: number;
  share_drifted: number;
  drift: boolean;
  features: Record<string, { test: string; score: number | null; threshold: number; drift: boolean }>;
  prediction: { test: string; score: number | null; threshold: number; drift: boolean } | null;
  performance?: { n_labelled: number; accuracy: number | null; f1: number | null; roc_auc: number | null };
}

/** Drift snapshots over time, for sparklines and audits; written at most every DRIFT_HISTORY_MS. */
export class DriftHistory {
  private readonly insert;
  private readonly prune;
  private readonly since;

  constructor(private readonly db: Db, private readonly retention: number) {
    this.insert = db.prepare('INSERT INTO drift_snapshots (ts, window_rows, share_drifted, drift, snapshot) VALUES (?, ?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM drift_snapshots WHERE id <= (SELECT MAX(id) FROM drift_snapshots) - ?');
    this.since = db.prepare('SELECT snapshot FROM drift_snapshots WHERE ts >= ? ORDER BY ts, id LIMIT ?').pluck();
  }

  add(p: HistoryPoint): void {
    this.db.transaction(() => {
      this.insert.run(p.at, p.window_rows, p.share_drifted, p.drift ? 1 : 0, JSON.stringify(p));
      this.prune.run(this.retention);
    })();
  }

  list(sinceMs: number, limit = 10_000): HistoryPoint[] {
    return (this.since.all(sinceMs, limit) as string[]).map((s) => JSON.parse(s) as HistoryPoint);
  }
}
