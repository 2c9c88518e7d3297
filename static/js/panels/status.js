// Header: model, connection, window fill, throughput, latency and the dataset drift verdict.
import { bus } from '../bus.js';
import { DASH, compact, int, ms, pct } from '../format.js';

const CONN_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  stale: 'Stalled',
  reconnecting: 'Reconnecting',
  closed: 'Disconnected',
};

export function statusBar() {
  let capacity = null;
  let retryAt = 0;
  let ticker = 0;

  return {
    model: DASH,
    version: '',
    description: '',
    conn: 'connecting',
    connText: CONN_TEXT.connecting,
    connDetail: '',
    windowText: DASH,
    windowPct: 0,
    rowsPerS: DASH,
    reqPerS: DASH,
    p50: DASH,
    p95: DASH,
    driftState: 'empty',
    driftText: 'No data yet',
    driftDetail: '',
    firing: 0,
    firingText: '',

    init() {
      bus.on('hello', (h) => {
        this.model = h.model?.name ?? DASH;
        this.version = h.model?.version === undefined ? '' : `v${h.model.version}`;
        capacity = h.window_capacity ?? null;
        document.title = `${this.model} · driftline`;
      });
      bus.on('card', (c) => {
        this.description = c.description ?? '';
      });
      bus.on('conn', (s) => this.onConn(s));
      bus.on('stats', (s) => {
        this.rowsPerS = compact(s.rows_per_s);
        this.reqPerS = compact(s.requests_per_s);
        this.p50 = ms(s.latency_ms?.p50);
        this.p95 = ms(s.latency_ms?.p95);
        this.setWindow(s.window_rows);
      });
      bus.on('snapshot', (snap) => this.onSnapshot(snap));
      bus.on('alertCount', (n) => {
        this.firing = n;
        this.firingText = n === 1 ? '1 alert firing' : `${n} alerts firing`;
      });
    },

    destroy() {
      clearInterval(ticker);
    },

    setWindow(rows) {
      if (typeof rows !== 'number') return;
      this.windowText = capacity === null ? int(rows) : `${int(rows)} / ${int(capacity)}`;
      this.windowPct = capacity ? Math.min(100, Math.round((rows / capacity) * 100)) : 0;
    },

    onSnapshot(snap) {
      this.setWindow(snap.window_rows);
      const d = snap.dataset;
      if (!d || snap.window_rows === 0) {
        this.driftState = 'empty';
        this.driftText = 'No data yet';
        this.driftDetail = 'Upload a CSV or send rows to /predict';
        return;
      }
      this.driftState = d.drift ? 'drift' : 'ok';
      this.driftText = d.drift ? 'Dataset drift' : 'No dataset drift';
      const weighted =
        typeof d.importance_weighted_share === 'number' ? `; ${pct(d.importance_weighted_share)} of the model's reliance` : '';
      this.driftDetail = `${d.n_drifted} of ${d.n_columns} columns drifted (${pct(d.share_drifted)}; drift at ≥ ${pct(d.drift_share_threshold)})${weighted}`;
    },

    onConn(s) {
      this.conn = s.state;
      this.connText = CONN_TEXT[s.state] ?? s.state;
      retryAt = s.retryAt;
      clearInterval(ticker);
      this.connDetail = this.retryText();
      if (s.state === 'reconnecting' && retryAt > 0) ticker = setInterval(() => (this.connDetail = this.retryText()), 250);
      if (s.state === 'stale') this.connDetail = 'no update for a few seconds';
    },

    retryText() {
      if (this.conn !== 'reconnecting') return '';
      if (retryAt === 0) return 'connecting…';
      return `retry in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`;
    },

    get connCls() {
      return `conn-${this.conn}`;
    },
    get driftCls() {
      return `state-${this.driftState}`;
    },
  };
}
