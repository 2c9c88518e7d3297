// The last 100 predicted rows, newest first. Up to 10 messages a second land here, so the table
// is patched by hand (new rows in at the top, old rows out at the bottom) with textContent,
// instead of re-evaluating Alpine bindings for 100 × 13 cells each time.
import { bus, perFrame } from '../bus.js';
import { clock, compact, score } from '../format.js';

export const MAX_ROWS = 100;

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

export function recentPredictions() {
  let features = [];
  let queue = [];
  let paused = false;
  // The next flush starts the table afresh (the hello's rows replace what it showed).
  let replace = false;

  return {
    columns: [],
    count: 0,
    paused: false,
    pausedCount: 0,
    pauseLabel: 'Pause',
    empty: true,

    init() {
      const flush = perFrame(() => this.flush());
      bus.on('hello', (h) => {
        features = Array.isArray(h.model?.features) ? h.model.features : [];
        this.columns = features.map((name) => ({ name }));
      });
      bus.on('recent', (rows) => {
        queue = rows.slice(-MAX_ROWS);
        replace = true;
        if (paused) this.pausedCount = queue.length;
        else flush();
      });
      bus.on('predictions', (m) => {
        if (!Array.isArray(m.rows) || m.rows.length === 0) return;
        queue.push(...m.rows);
        if (queue.length > MAX_ROWS) queue = queue.slice(-MAX_ROWS);
        if (paused) {
          this.pausedCount = Math.min(MAX_ROWS, this.pausedCount + m.rows.length);
          return;
        }
        flush();
      });
    },

    flush() {
      if (paused || (queue.length === 0 && !replace)) return;
      const body = this.$refs.body;
      if (replace) body.replaceChildren();
      replace = false;
      const rows = queue;
      queue = [];
      const frag = document.createDocumentFragment();
      // Messages carry rows oldest first; the table shows newest first.
      for (let i = rows.length - 1; i >= 0; i--) frag.append(this.row(rows[i]));
      body.prepend(frag);
      while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
      this.count = body.rows.length;
      this.empty = this.count === 0;
    },

    row(r) {
      const tr = document.createElement('tr');
      tr.className = 'risk-row';
      cell(tr, clock(r.ts), 'mono muted').title = new Date(r.ts).toISOString();
      cell(tr, String(r.request_id).slice(0, 8), 'mono muted').title = String(r.request_id);
      cell(tr, String(r.row), 'num');
      const p = cell(tr, '', 'num prob');
      const bar = document.createElement('span');
      bar.className = 'prob-bar';
      bar.style.width = `${Math.round(Math.max(0, Math.min(1, Number(r.probability))) * 100)}%`;
      const txt = document.createElement('span');
      txt.textContent = Number(r.probability).toFixed(3);
      p.append(bar, txt);
      cell(tr, String(r.prediction));
      const risk = cell(tr, '');
      const badge = document.createElement('span');
      badge.className = `badge risk-${String(r.risk_level).toLowerCase()}`;
      badge.textContent = String(r.risk_level);
      risk.append(badge);
      const f = Array.isArray(r.features) ? r.features : [];
      for (let i = 0; i < features.length; i++) cell(tr, Number.isInteger(f[i]) ? compact(f[i]) : score(f[i]), 'num').title = String(f[i]);
      return tr;
    },

    togglePause() {
      paused = !paused;
      this.paused = paused;
      this.pauseLabel = paused ? 'Resume' : 'Pause';
      if (!paused) {
        this.pausedCount = 0;
        this.flush();
      }
    },

    clear() {
      this.$refs.body.replaceChildren();
      queue = [];
      this.count = 0;
      this.empty = true;
    },
  };
}
