import type { ModelCard } from '../model/card.js';
import { openDatabase, type Db } from './db.js';
import { DriftHistory } from './drift-history.js';
import type { StoreHealth } from './health.js';
import { databaseFile } from './paths.js';
import { PredictionLog } from './prediction-log.js';
import { PgDriftHistory, PgPredictionLog, type FollowOptions } from './pg/index.js';
import type { HistoryStore, LogStore, WindowFeed } from './port.js';

export interface LogSettings {
  DATA_DIR: string;
  DATABASE_URL?: string | undefined;
  LOG_RETENTION_ROWS: number;
  WINDOW_ROWS: number;
}

export interface OpenedLog {
  store: LogStore;
  /**
   * True when the window learns rows from the shared log (every replica's batches, in log
   * order) rather than from this process's pipeline: the sketch stage must then not add them.
   */
  shared: boolean;
  /** Fills the window from the newest WINDOW_ROWS rows; for a shared log, then follows it. */
  feedWindow(window: WindowFeed, follow?: FollowOptions): Promise<void>;
}

/**
 * The prediction log the settings name: PostgreSQL when DATABASE_URL is set (replicas share it),
 * else the SQLite file in DATA_DIR (one process). The alert outbox follows the same setting
 * (server/alerting.ts: its SQLite outbox lives in src/alerts, above this room).
 */
export async function openLog(settings: LogSettings, card: ModelCard, health: StoreHealth): Promise<OpenedLog> {
  const rules = { decisionThreshold: card.decision_threshold, risk: card.risk_levels };
  if (settings.DATABASE_URL === undefined) {
    const store = await PredictionLog.open({
      file: databaseFile(settings.DATA_DIR),
      retentionRows: settings.LOG_RETENTION_ROWS,
      ...rules,
      health,
    });
    return {
      store,
      shared: false,
      async feedWindow(window) {
        window.rebuild(store.tail(settings.WINDOW_ROWS));
      },
    };
  }
  const store = await PgPredictionLog.open({
    connectionString: settings.DATABASE_URL,
    ...rules,
    onReachability: (part, down) => health.reachability(part, down),
  });
  return {
    store,
    shared: true,
    async feedWindow(window, follow) {
      const first = await store.tail(settings.WINDOW_ROWS);
      let { rows, position } = first;
      const { labelSeq } = first;
      window.rebuild(rows);
      // A gap means retention deleted batches before this follower read them: the window
      // misses rows that a single node would hold, so it is rebuilt from the log as it is now,
      // and the batches that rebuild already holds are passed over. (Label events before the
      // rebuild's may come again: applying a label twice leaves the same window.)
      let gapped = false;
      await store.follow(
        position,
        async (b) => {
          if (gapped) {
            ({ rows, position } = await store.tail(settings.WINDOW_ROWS));
            window.rebuild(rows);
            gapped = false;
          }
          // Returned, so that a feed which answers with a promise holds the follower until done.
          if (b.position > position) return window.applyBatch(b);
        },
        {
          ...follow,
          onGap: (last, next) => {
            if (next > position) gapped = true;
            follow?.onGap?.(last, next);
          },
          labels: { after: labelSeq, apply: (ids, targets) => ids.forEach((id, i) => window.label(id, targets[i]!)) },
        },
      );
    },
  };
}

export interface HistorySettings {
  DATA_DIR: string;
  DATABASE_URL?: string | undefined;
  DRIFT_HISTORY_RETENTION: number;
  REPLICA_ID: string;
}

export interface OpenedHistory {
  history: HistoryStore;
  /**
   * True when replicas share the history (PostgreSQL): only the leader may then add to it, so
   * that the cluster writes one point per DRIFT_HISTORY_MS, not one per replica.
   */
  shared: boolean;
  /** The local database the history lives in, which a single node's alert outbox shares; none with DATABASE_URL. */
  db: Db | undefined;
  close(): Promise<void>;
}

/**
 * The drift history the settings name, as openLog picks the log: PostgreSQL when DATABASE_URL
 * is set, else the SQLite file in DATA_DIR. A replica then keeps no local database at all.
 */
export async function openHistory(settings: HistorySettings, health: StoreHealth): Promise<OpenedHistory> {
  if (settings.DATABASE_URL === undefined) {
    const db = openDatabase(databaseFile(settings.DATA_DIR));
    return {
      history: new DriftHistory(db, settings.DRIFT_HISTORY_RETENTION, health),
      shared: false,
      db,
      async close() {
        db.close();
      },
    };
  }
  const history = await PgDriftHistory.open({
    connectionString: settings.DATABASE_URL,
    retention: settings.DRIFT_HISTORY_RETENTION,
    replica: settings.REPLICA_ID,
  });
  return { history, shared: true, db: undefined, close: () => history.close() };
}
