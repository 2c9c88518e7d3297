// Drift and model quality over time, per feature and for the dataset: the persisted points from
// /api/drift/history (one per DRIFT_HISTORY_MS), then the live snapshots as they are pushed.
import { bus, perFrame } from './bus.js';
import { isNum, strength } from './format.js';

// Live snapshots come up to 4 per second; one point per second per series is plenty for a
// sparkline and keeps an all-day tab at a bounded size.
const LIVE_STEP_MS = 1000;
const MAX_POINTS = 3600;
export const HISTORY_SPAN_MS = 60 * 60 * 1000;

const features = new Map(); // name → [[t, strength, drift]]
const dataset = []; // [[t, share_drifted, drift]]
// [[t, f1_est, roc_auc_est, f1_lo, f1_hi, roc_auc_lo, roc_auc_hi, f1_realized, roc_auc_realized]], null where unknown
const quality = [];
let shareThreshold = null;
let validation = null;
let lastAt = 0;

const changed = perFrame(() => bus.emit('series', { lastAt }));

function push(series, point) {
  const prev = series.at(-1);
  if (prev !== undefined && point[0] < prev[0]) return; // older than what we have: a late history reply
  if (prev !== undefined && point[0] - prev[0] < LIVE_STEP_MS) series[series.length - 1] = point;
  else series.push(point);
  if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
}

function seriesOf(name) {
  let s = features.get(name);
  if (s === undefined) {
    s = [];
    features.set(name, s);
  }
  return s;
}

/** Merges points that may be older than what the live pushes already added. */
function merge(series, points) {
  const all = [...series, ...points].sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const p of all) {
    const prev = out.at(-1);
    if (prev !== undefined && p[0] - prev[0] < LIVE_STEP_MS) out[out.length - 1] = p;
    else out.push(p);
  }
  series.splice(0, series.length, ...out.slice(-MAX_POINTS));
}

const num = (v) => (isNum(v) ? v : null);
const band = (b) => (Array.isArray(b) && isNum(b[0]) && isNum(b[1]) ? b : [null, null]);

/**
 * One quality point from the estimate and the realized metrics, which history points and
 * snapshots both carry (the history's estimate names its bands f1_band / roc_auc_band, the
 * snapshot's keeps them under bands); null when neither has a value yet.
 */
function qualityPoint(at, est, perf) {
  const e = est ?? {};
  const real = perf !== undefined && perf !== null && perf.n_labelled > 0 ? perf : {};
  const [f1Lo, f1Hi] = band(e.f1_band ?? e.bands?.f1);
  const [aucLo, aucHi] = band(e.roc_auc_band ?? e.bands?.roc_auc);
  const point = [at, num(e.f1), num(e.roc_auc), f1Lo, f1Hi, aucLo, aucHi, num(real.f1), num(real.roc_auc)];
  return point.slice(1).every((v) => v === null) ? null : point;
}

/** Points from GET /api/drift/history (any order relative to the live pushes). */
export function addHistoryPoints(points) {
  const perFeature = new Map();
  const shares = [];
  const qual = [];
  for (const p of points) {
    if (!isNum(p.at)) continue;
    for (const [name, f] of Object.entries(p.features ?? {})) {
      if (f.score === null) continue;
      if (!perFeature.has(name)) perFeature.set(name, []);
      perFeature.get(name).push([p.at, strength(f.test, f.score, f.threshold), f.drift]);
    }
    if (p.window_rows > 0) shares.push([p.at, p.share_drifted, p.drift]);
    const q = p.window_rows > 0 ? qualityPoint(p.at, p.performance_estimate, p.performance) : null;
    if (q !== null) qual.push(q);
    lastAt = Math.max(lastAt, p.at);
  }
  for (const [name, pts] of perFeature) merge(seriesOf(name), pts);
  merge(dataset, shares);
  merge(quality, qual);
  changed();
}

/** A pushed MonitorSnapshot. */
export function addSnapshot(snap) {
  const at = Date.parse(snap.at);
  if (!isNum(at)) return;
  shareThreshold = snap.dataset?.drift_share_threshold ?? shareThreshold;
  validation = snap.performance_estimate?.validation ?? validation;
  if (snap.window_rows === 0) return;
  for (const [name, f] of Object.entries(snap.features ?? {})) {
    if (f.score === null) continue;
    push(seriesOf(name), [at, strength(f.test, f.score, f.threshold, f.test_display_name), f.drift]);
  }
  push(dataset, [at, snap.dataset.share_drifted, snap.dataset.drift]);
  const q = qualityPoint(at, snap.performance_estimate, snap.performance);
  if (q !== null) push(quality, q);
  lastAt = Math.max(lastAt, at);
  changed();
}

export const featureSeries = (name) => features.get(name) ?? [];
export const datasetSeries = () => dataset;
export const datasetThreshold = () => shareThreshold;
export const qualitySeries = () => quality;
/** The card's validation metrics as the snapshot's estimate carries them (null before one). */
export const qualityValidation = () => validation;
export const newestPoint = () => lastAt;

/**
 * An SVG polyline for a sparkline of strength over time: x by time, y from 0 to at least 2
 * so the threshold (strength 1) sits at a fixed height in every row and rows compare at a glance.
 */
export function sparkline(series, width, height, pad = 2) {
  if (series.length === 0) return { points: '', thresholdY: height / 2, last: null };
  const t0 = series[0][0];
  const t1 = series.at(-1)[0];
  let top = 2;
  for (const [, s] of series) if (isNum(s) && s > top) top = s;
  top = Math.min(top, 10);
  const y = (s) => {
    const v = s === Number.POSITIVE_INFINITY ? top : Math.min(isNum(s) ? s : 0, top);
    return (height - pad - (v / top) * (height - 2 * pad)).toFixed(1);
  };
  const x = (t) => (t1 === t0 ? width - pad : pad + ((t - t0) / (t1 - t0)) * (width - 2 * pad)).toFixed(1);
  const pts =
    series.length === 1 ? [`${pad},${y(series[0][1])}`, `${width - pad},${y(series[0][1])}`] : series.map(([t, s]) => `${x(t)},${y(s)}`);
  return { points: pts.join(' '), thresholdY: Number(y(1)), last: series.at(-1) };
}
