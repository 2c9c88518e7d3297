// Display helpers: text formatting and the presentation-only transforms the dashboard does
// (drift strength, histogram axis labels). Every decision (drifted or not) comes from the server's snapshot.

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const compactNf = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const DASH = '—';

/** HTML-escapes text for the few places that take markup (ECharts tooltips render HTML). */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

export function int(v) {
  return isNum(v) ? nf.format(v) : DASH;
}

export function compact(v) {
  if (!isNum(v)) return DASH;
  return Math.abs(v) >= 10_000 ? compactNf.format(v) : nf1.format(v);
}

/** Three significant digits; tiny p-values in exponent form so 1e-12 does not read as 0. */
export function score(v) {
  if (!isNum(v)) return DASH;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

export function pct(v, digits = 0) {
  return isNum(v) ? `${(v * 100).toFixed(digits)}%` : DASH;
}

export function ms(v) {
  if (!isNum(v)) return DASH;
  return v >= 100 ? `${nf.format(v)} ms` : `${v.toFixed(1)} ms`;
}

export function clock(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// Evidently's p-value tests: a small score means drift. Everything else is a distance.
const P_VALUE_TESTS = new Set([
  'ks',
  'chisquare',
  'z',
  'fisher_exact',
  'cramer_von_mises',
  'anderson',
  'mannw',
  't_test',
  'g_test',
  'epps_singleton',
  'empirical_mmd',
]);

export function isPValueTest(test, displayName = '') {
  return P_VALUE_TESTS.has(test) || /p[_ -]?value/i.test(displayName);
}

/**
 * Drift strength: 1.0 sits at the threshold and larger always means more drift, so distance
 * tests and p-value tests share one axis. Distances: score ÷ threshold. P-values:
 * ln p ÷ ln threshold (p = threshold → 1, p = 1 → 0, p → 0 grows without bound); a plain
 * threshold ÷ p would put p = 1e-300 at 1e298 and flatten every other bar.
 */
export function strength(test, s, threshold, displayName = '') {
  if (!isNum(s) || !isNum(threshold) || threshold <= 0) return null;
  if (isPValueTest(test, displayName)) {
    if (threshold >= 1) return null;
    if (s <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, Math.log(Math.min(1, s)) / Math.log(threshold));
  }
  return s / threshold;
}

export function strengthText(v) {
  if (v === null || v === undefined) return DASH;
  if (v === Number.POSITIVE_INFINITY) return '∞';
  return v >= 100 ? `${nf.format(v)}×` : `${v.toFixed(2)}×`;
}

/** A histogram of a string column: x holds category codes 0…m−1 and `labels` their names. */
export const isCategoryHist = (h) => Array.isArray(h?.labels) && h.labels.length === h.x.length;

/** Axis labels for a display histogram: the category names, "lo–hi" per bin, or the distinct values. */
export function histLabels(h) {
  if (isCategoryHist(h)) return h.labels.map(String);
  if (h.kind === 'values') return h.x.map((v) => compact(v));
  return h.shares.map((_, i) => `${compact(h.x[i])}–${compact(h.x[i + 1])}`);
}

/**
 * The category whose share moved most between reference and current, for naming what drifted
 * in a string column; null for other columns or an empty window.
 */
export function largestCategoryShift(ref, cur) {
  if (!isCategoryHist(ref) || !Array.isArray(cur?.shares)) return null;
  let best = null;
  ref.shares.forEach((r, i) => {
    const c = cur.shares[i];
    if (!isNum(r) || !isNum(c)) return;
    if (best === null || Math.abs(c - r) > Math.abs(best.current - best.reference))
      best = { label: String(ref.labels[i]), reference: r, current: c };
  });
  return best;
}
