// `driftline drift --json` against Evidently 0.4.15 on every golden scenario: same test per
// feature, same decisions, same dataset share, scores within 2 % (0.002 absolute below 0.1;
// p-values on the same side of the threshold and within 10 % above 1e-6).
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DriftSnapshot } from '../src/drift/index.js';
import { FEATURES, golden, readGolden, relErr } from './helpers/drift.js';
import { ROOT, SHARED } from './helpers/shared.js';

const run = promisify(execFile);
const P_VALUE_TESTS = new Set(['ks', 'chisquare', 'z']);

async function cliDrift(reference: string, current: string): Promise<DriftSnapshot> {
  // No model card in MODEL_DIR: the features come from --columns, as Evidently was given them.
  const env = { ...process.env, MODEL_DIR: mkdtempSync(path.join(os.tmpdir(), 'dl-nomodel-')), DRIFT_OVERRIDES: '' };
  const { stdout } = await run(
    process.execPath,
    [
      '--import=tsx',
      'src/cli/index.ts',
      'drift',
      '--reference',
      reference,
      '--current',
      current,
      '--columns',
      FEATURES.join(','),
      '--json',
    ],
    { cwd: ROOT, env, maxBuffer: 64 << 20 },
  );
  return JSON.parse(stdout) as DriftSnapshot;
}

function scoreOk(test: string, ours: number, theirs: number, threshold: number): { ok: boolean; err: number } {
  if (P_VALUE_TESTS.has(test)) {
    const sameSide = ours <= threshold === theirs <= threshold && ours < threshold === theirs < threshold;
    const err = theirs > 1e-6 ? relErr(ours, theirs) : 0;
    return { ok: sameSide && err <= 0.1, err };
  }
  const err = relErr(ours, theirs);
  return { ok: theirs < 0.1 ? Math.abs(ours - theirs) <= 0.002 : err <= 0.02, err };
}

t.test('driftline drift --json matches Evidently on the golden scenarios', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    await t.test(id, async (t) => {
      const s = await cliDrift(path.join(SHARED, 'golden', sc.reference_csv), path.join(SHARED, 'golden', sc.current_csv));
      let worst = 0;
      for (const f of FEATURES) {
        const e = sc.features[f]!.evidently;
        const o = s.features[f]!;
        t.equal(o.test, e.test, `${f}: test`);
        t.equal(o.threshold, e.threshold, `${f}: threshold`);
        t.equal(o.drift, e.drift, `${f}: drift`);
        const { ok, err } = scoreOk(e.test, o.score!, e.score, e.threshold);
        worst = Math.max(worst, err);
        t.ok(ok, `${f}: score ${o.score} vs Evidently ${e.score} (relative error ${err.toExponential(2)})`);
      }
      t.same(s.dataset, sc.dataset, 'dataset share and decision');
      t.equal(s.window_rows, sc.n_current);
      // The target (in the CSVs) drifts on its own line, outside the dataset share.
      const tg = sc.dataset_with_target.target;
      t.equal(s.target?.test, tg.test, 'target: test');
      t.equal(s.target?.drift, tg.drift, 'target: drift');
      t.ok(relErr(s.target!.score!, tg.score) < 1e-9, `target: score ${s.target?.score} vs ${tg.score}`);
      t.equal(s.prediction, null, 'no model, no prediction drift');
      t.comment(`${id}: worst relative error of a feature score ${worst.toExponential(2)}`);
    });
  }
});
