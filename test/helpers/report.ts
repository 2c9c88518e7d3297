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
  for (let i = 0; i < 500; i++)
    w.push(
      HOSTILE.map((_, j) => Math.round(r() * 100) + (j === 0 ? 40 : 0)),
      0,
      Number.NaN,
      Number.NaN,
    );
  return snapshot(profile, w, { at: Date.parse('2026-01-02T03:04:05Z') });
}

/** The categories of `categoricalSnapshot()`'s string column, as the snapshot orders them (by name). */
export const EDUCATION = ['graduate school', 'high school', 'others', 'university'];

/**
 * A snapshot with a column of words (education) beside a numeric one, made by the drift engine:
 * the window leans towards graduate school against a reference that leans towards university.
 */
export function categoricalSnapshot(): DriftSnapshot {
  const r = mulberry32(3);
  const pick = (w: number[]): string => {
    let u = r() * w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < w.length; i++) if ((u -= w[i]!) < 0) return EDUCATION[i]!;
    return EDUCATION.at(-1)!;
  };
  const refWords = Array.from({ length: 2000 }, () => pick([3, 2, 1, 4]));
  const profile = buildProfile({
    features: [
      { name: 'amount', values: Float64Array.from({ length: 2000 }, () => Math.round(r() * 1000)) },
      { name: 'education', strings: refWords },
    ],
  });
  const w = new DriftWindow(profile, { capacity: 500 });
  for (let i = 0; i < 500; i++)
    w.push([Math.round(r() * 1000), 0], 0, Number.NaN, Number.NaN, Date.parse('2026-01-02T03:04:00Z'), [pick([6, 2, 1, 1])]);
  return snapshot(profile, w, { at: Date.parse('2026-01-02T03:04:05Z') });
}
