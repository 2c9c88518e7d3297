import { buildProfile, DriftWindow, snapshot, type DriftSnapshot } from '../../src/drift/index.js';
import { mulberry32 } from '../../src/sim/index.js';

/** Column names that would be markup, or would end a script element, if not escaped. */
export const HOSTILE = ['<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '"\'&amp;<!--', 'plain'];

/** A snapshot over the hostile column names: the first one shifted by 40, the others not. */
export function hostileSnapshot(): DriftSnapshot {
  const r = mulberry32(1);
  const ref = HOSTILE.map(() => Float64Array.from({ length: 2000 }, () => Math.round(r() * 100)));
  const profile = buildProfile({ features: HOSTILE.map((name, j) => ({ name, values: ref[j]! })), source: '<b>source</b>' });
  const w = new DriftWindow(profile, { capacity: 500 });
  for (let i = 0; i < 500; i++) w.push(HOSTILE.map((_, j) => Math.round(r() * 100) + (j === 0 ? 40 : 0)), 0, Number.NaN, Number.NaN);
  return snapshot(profile, w, { at: Date.parse('2026-01-02T03:04:05Z') });
}
