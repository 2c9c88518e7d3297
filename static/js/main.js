// Entry point: registers the panels with Alpine (CSP build: directives name properties and
// methods of these components, never inline code), opens the live connection and fetches the
// few things that are not pushed (model card, drift history, past alerts) once.
import Alpine from '/vendor/alpine.js';
import { bus } from './bus.js';
import { addHistoryPoints, addSnapshot, HISTORY_SPAN_MS, newestPoint } from './history.js';
import { connectLive } from './live.js';
import { alertsFeed } from './panels/alerts.js';
import { driftChart } from './panels/drift-chart.js';
import { driftTable } from './panels/drift-table.js';
import { featureDist } from './panels/distribution.js';
import { predictionDist } from './panels/prediction-dist.js';
import { modelQuality } from './panels/quality.js';
import { qualityTimeline } from './panels/quality-timeline.js';
import { recentPredictions } from './panels/recent.js';
import { statusBar } from './panels/status.js';
import { driftTimeline } from './panels/timeline.js';
import { uploader } from './panels/uploader.js';

const PANELS = {
  statusBar,
  driftTable,
  driftChart,
  driftTimeline,
  featureDist,
  predictionDist,
  modelQuality,
  qualityTimeline,
  recentPredictions,
  alertsFeed,
  uploader,
};
for (const [name, factory] of Object.entries(PANELS)) Alpine.data(name, factory);

async function getJson(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' } });
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : null;
  return { ok: r.ok, status: r.status, body };
}

async function loadHistory(since) {
  try {
    const r = await getJson(`/api/drift/history?since=${Math.floor(since)}&limit=5000`);
    if (r.ok && Array.isArray(r.body?.points)) addHistoryPoints(r.body.points);
  } catch {
    // Sparklines then start from the live pushes; nothing else depends on the history.
  }
}

let hellos = 0;
// The newest log id the hello's recent rows covered: rows pushed just after the hello may
// repeat them (they were in the log and still in the feed's pending message).
let shownUpToId = -Infinity;
function onMessage(msg) {
  const data = msg.data;
  switch (msg.type) {
    case 'hello': {
      hellos++;
      // Read before the hello's own snapshot moves it to now.
      const seenUpTo = newestPoint();
      bus.emit('hello', data);
      // The rows logged before this connection: panels replace what they held with them, so a
      // page opened (or reconnected) after the traffic shows it without waiting for more.
      if (Array.isArray(data?.recent)) {
        shownUpToId = data.recent.reduce((m, r) => (typeof r?.id === 'number' && r.id > m ? r.id : m), -Infinity);
        bus.emit('recent', data.recent);
      }
      if (data?.snapshot) {
        addSnapshot(data.snapshot);
        bus.emit('snapshot', data.snapshot);
      }
      // After a reconnect, fill the gaps (sparklines, alerts) left while we were away.
      if (hellos > 1) {
        if (seenUpTo > 0) void loadHistory(seenUpTo + 1);
        loadAlerts();
      }
      break;
    }
    case 'drift':
      addSnapshot(data);
      bus.emit('snapshot', data);
      break;
    case 'predictions': {
      const rows = Array.isArray(data?.rows) ? data.rows.filter((r) => typeof r?.id !== 'number' || r.id > shownUpToId) : [];
      if (rows.length > 0) bus.emit('predictions', { ...data, rows });
      break;
    }
    case 'stats':
    case 'alerts':
      bus.emit(msg.type, data);
      break;
    default:
      break;
  }
}

Alpine.start();

window.driftline = {
  live: connectLive({ onMessage, onState: (s) => bus.emit('conn', s) }),
  bus,
  hellos: () => hellos,
};

void (async () => {
  const [card] = await Promise.allSettled([getJson('/api/model'), loadHistory(Date.now() - HISTORY_SPAN_MS)]);
  if (card.status === 'fulfilled' && card.value.ok) bus.emit('card', card.value.body);
})();

function loadAlerts() {
  getJson('/api/alerts?limit=100').then(
    (r) => bus.emit('alertsLoaded', r),
    () => bus.emit('alertsLoaded', { ok: false, status: 0, body: null }),
  );
}
loadAlerts();
