import type { Db } from './db.js';
import type { StoreHealth } from './health.js';
import type { HistoryStore } from './port.js';

/** A persisted snapshot, compact: per-feature test, score and decision (no histograms). */
export interface HistoryPoint {
  at: number;
  window_rows: number;
  share_drifted: number;
  drift: boolean;
  features: Record<string, { test: string; score: number | null; threshold: number; drift: boolean }>;
  prediction: { test: string; score: number | null; threshold: number; drift: boolean } | null;
  performance?: { n_labelled: number; accuracy: number | null; f1: number | null; roc_auc: number | null };
  /** Estimated before labels (CBPE), with the ±3 SE bands of F1 and ROC-AUC. */
  performance_estimate?: {
    n_rows: number;
    accuracy: number | null;
    f1: number | null;
    roc_auc: number | null;
    f1_band: [number, number] | null;
    roc_auc_band: [number, number] | null;
  };
}

// Points read per statement while a history is streamed: each page is decoded in one go, so it
// stays well inside one time slice of the server's streamRead.
const PAGE = 256;

/** Drift snapshots over time, for sparklines and audits; written at most every DRIFT_HISTORY_MS. */
export class DriftHistory implements HistoryStore {
  private readonly insert;
  private readonly prune;
  private readonly from;

  constructor(
    private readonly db: Db,
    private readonly retention: number,
    private readonly health?: StoreHealth,
  ) {
    this.insert = db.prepare('INSERT INTO drift_snapshots (ts, window_rows, share_drifted, drift, snapshot) VALUES (?, ?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM drift_snapshots WHERE id <= (SELECT MAX(id) FROM drift_snapshots) - ?');
    // Keyset paging on (ts, id): a page starts after the last point of the one before.
    this.from = db.prepare(
      'SELECT id, ts, snapshot FROM drift_snapshots WHERE ts >= ? AND (ts > ? OR (ts = ? AND id > ?)) ORDER BY ts, id LIMIT ?',
    );
  }

  private guarded<T>(f: () => T): T {
    return this.health === undefined ? f() : this.health.run(f);
  }

  add(p: HistoryPoint): void {
    this.guarded(() =>
      this.db.transaction(() => {
        this.insert.run(p.at, p.window_rows, p.share_drifted, p.drift ? 1 : 0, JSON.stringify(p));
        this.prune.run(this.retention);
      })(),
    );
  }

  /** The database is not the history's own (the alert outbox shares it): its opener closes it. */
  close(): void {}

  /**
   * Points from `sinceMs` on, oldest first, as their stored JSON text, a page at a time: no
   * statement stays open between pages, so a slow consumer holds no read transaction.
   */
  *pointsJson(sinceMs: number, limit = 10_000): Generator<string> {
    let ts = sinceMs;
    let id = -1;
    for (let left = limit; left > 0;) {
      const page = this.guarded(
        () => this.from.all(sinceMs, ts, ts, id, Math.min(PAGE, left)) as { id: number; ts: number; snapshot: string }[],
      );
      for (const r of page) yield r.snapshot;
      if (page.length < Math.min(PAGE, left)) return;
      left -= page.length;
      ts = page.at(-1)!.ts;
      id = page.at(-1)!.id;
    }
  }
}
