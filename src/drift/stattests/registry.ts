// Stat tests by name, as Evidently registers them.
import { DriftlineError } from '../../errors.js';
import { chisquare } from './chisquare.js';
import { jensenshannon } from './jensenshannon.js';
import { klDiv } from './kl_div.js';
import { ks } from './ks.js';
import { psi } from './psi.js';
import type { StatTest, StatTestName } from './types.js';
import { wasserstein } from './wasserstein.js';
import { z } from './z.js';

const REGISTRY: ReadonlyMap<string, StatTest> = new Map([ks, wasserstein, psi, jensenshannon, klDiv, chisquare, z].map((t) => [t.name, t]));

export function statTestNames(): StatTestName[] {
  return [...REGISTRY.values()].map((t) => t.name);
}

export function hasStatTest(name: string): boolean {
  return REGISTRY.has(name);
}

export function getStatTest(name: string): StatTest {
  const t = REGISTRY.get(name);
  if (t === undefined) {
    throw new DriftlineError('DL_ERR_DRIFT_UNKNOWN_TEST', `Unknown drift test "${name}"; known tests: ${statTestNames().join(', ')}`, {
      details: { test: name, known: statTestNames() },
    });
  }
  return t;
}
