// DRIFT_OVERRIDES: per-column choice of test and threshold, as JSON, e.g.
// {"age": {"test": "ks", "threshold": 0.05}, "credit_limit": {"threshold": 0.2}}.
import { z } from 'zod';
import { DriftlineError } from '../../errors.js';
import { getStatTest } from './registry.js';
import type { DriftOverrides, ReferenceProfile } from '../types.js';

const overridesSchema = z.record(
  z.string().min(1),
  z.strictObject({
    test: z.string().min(1).optional(),
    threshold: z.number().nonnegative().optional(),
  }),
);

/** Parses and checks overrides; an unknown test name throws DL_ERR_DRIFT_UNKNOWN_TEST. */
export function parseDriftOverrides(json: string | undefined | null): DriftOverrides {
  if (json === undefined || json === null || json.trim() === '') return Object.freeze({});
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new DriftlineError('DL_ERR_CONFIG', `DRIFT_OVERRIDES is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = overridesSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DriftlineError('DL_ERR_CONFIG', `Invalid DRIFT_OVERRIDES:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  }
  for (const o of Object.values(r.data)) if (o.test !== undefined) getStatTest(o.test);
  return Object.freeze(r.data);
}

/**
 * Checks overrides against a profile: every column exists, and every test accepts the
 * column's type (as Evidently refuses, e.g., `ks` on a categorical column).
 */
export function checkOverrides(profile: ReferenceProfile, overrides: DriftOverrides): void {
  const columns = new Map(
    [...profile.features, profile.prediction, profile.target].flatMap((c) => (c === null ? [] : [[c.name, c] as const])),
  );
  for (const [name, o] of Object.entries(overrides)) {
    const col = columns.get(name);
    if (col === undefined) {
      throw new DriftlineError(
        'DL_ERR_CONFIG',
        `DRIFT_OVERRIDES names column "${name}", which the reference profile does not have (columns: ${[...columns.keys()].join(', ')})`,
      );
    }
    if (o.test === undefined) continue;
    const test = getStatTest(o.test);
    if (!test.columnTypes.includes(col.type)) {
      throw new DriftlineError(
        'DL_ERR_CONFIG',
        `DRIFT_OVERRIDES: test "${o.test}" does not apply to ${col.type === 'cat' ? 'categorical' : 'numerical'} column "${name}" (it takes ${test.columnTypes.join(', ')})`,
      );
    }
  }
}
