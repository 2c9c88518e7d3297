// Ranges as the simulator's options write them: `1-5` rows, `2-8s` between requests.
import { DriftlineError } from '../errors.js';
import { parseDuration } from './scenario.js';

/** `3` or `1-5` → [lo, hi], whole numbers, lo ≥ min. */
export function parseIntRange(text: string, what: string, min = 1): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (m === null || lo < min || hi < lo)
    throw new DriftlineError('DL_ERR_CONFIG', `${what} must be N or LO-HI with ${min} ≤ LO ≤ HI, not ${JSON.stringify(text)}`);
  return [lo, hi];
}

/**
 * `5s`, `2-8s`, `500ms-2s`, `0` → [lo, hi] in milliseconds. A unit written once, after the
 * second number, applies to both; no unit at all means seconds.
 */
export function parseDurationRange(text: string, what: string): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*(?:-\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*)?$/.exec(text);
  if (m === null)
    throw new DriftlineError(
      'DL_ERR_CONFIG',
      `${what} must be a duration or LO-HI range (e.g. 5s, 2-8s, 500ms-2s), not ${JSON.stringify(text)}`,
    );
  const hiUnit = m[4] ?? m[2] ?? 's';
  const lo = parseDuration(`${m[1]}${m[2] ?? hiUnit}`);
  const hi = m[3] === undefined ? lo : parseDuration(`${m[3]}${hiUnit}`);
  if (hi < lo) throw new DriftlineError('DL_ERR_CONFIG', `${what}: the upper end of ${JSON.stringify(text)} is below the lower`);
  return [lo, hi];
}
