// Regression: .taprc had `disable-coverage: true`, so a change that left half of a module
// untested went through `npm test` without a sign. Coverage is on again, with a floor in
// .taprc that `npm test` enforces; a run of a few files reports coverage without failing.
// Each case runs tap, with the project's .taprc and its `npm test` arguments, on a scratch
// project of one module and one test.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ROOT } from './helpers/shared.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const taprc = readFileSync(path.join(ROOT, '.taprc'), 'utf8');

// Ten small functions: a test that calls one of them covers well under any sensible floor.
const MODULE = Array.from(
  { length: 10 },
  (_, i) => `export function f${i}(x: number): number {\n  const y = x * ${i + 2};\n  return y + 1;\n}\n`,
).join('');

/** The environment `npm test` gives its script, without what an enclosing tap run sets for its own children. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP|_TAPJS_|NODE_OPTIONS$|NODE_V8_COVERAGE$)/.test(k)));
  return { ...env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` };
}

interface Run {
  code: number;
  out: string;
}

/**
 * A scratch project whose one test calls `called` of the module's functions, and also runs
 * the first in a child started with `--import=tsx` as the CLI tests do; run by `command` as npm runs a script.
 */
async function runTap(name: string, called: number, command: string): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `dl-cov-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'src'));
  mkdirSync(path.join(dir, 'test', 'helpers'), { recursive: true });
  for (const helper of ['shared.ts', 'coverage-drop-tsx.ts'])
    copyFileSync(path.join(ROOT, 'test', 'helpers', helper), path.join(dir, 'test', 'helpers', helper));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cov-scratch', type: 'module', private: true }));
  writeFileSync(path.join(dir, '.taprc'), taprc);
  writeFileSync(path.join(dir, 'src', 'm.ts'), MODULE);
  const calls = Array.from({ length: called }, (_, i) => `t.equal(m.f${i}(1), ${i + 3});`).join('\n');
  const child = `execFileSync(process.execPath, ['--import=tsx', '-e', "import('./src/m.ts').then((m) => m.f0(1))"]);`;
  writeFileSync(
    path.join(dir, 'test', 'm.test.ts'),
    `import t from 'tap';\nimport { execFileSync } from 'node:child_process';\nimport * as m from '../src/m.js';\n${calls}\n${child}\n`,
  );
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: dir, env: cleanEnv(), timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

t.test('npm test fails below the coverage floor in .taprc, passes above it; one file alone only reports', async (t) => {
  const npmTest = pkg.scripts.test!;
  t.match(npmTest, /^tap\b/, 'npm test runs tap');
  const floors = Object.fromEntries(
    ['lines', 'branches', 'functions', 'statements'].map((k) => [
      k,
      Number(new RegExp(`^${k}: (\\d+(?:\\.\\d+)?)$`, 'm').exec(taprc)?.[1] ?? 0),
    ]),
  );
  for (const [k, v] of Object.entries(floors)) t.ok(v >= 50 && v < 100, `.taprc sets a ${k} floor (${v} %)`);

  const [low, full, single] = await Promise.all([
    runTap('low', 1, npmTest),
    runTap('full', 10, npmTest),
    runTap('single', 1, 'tap test/m.test.ts'),
  ]);
  t.match(low.out, /Lines\s*:\s*\d/, 'the coverage summary is printed');
  t.not(low.code, 0, 'npm test with one function of ten covered fails');
  t.match(low.out, /ERROR: incomplete lines coverage/, 'and says which figure fell short');
  t.equal(full.code, 0, `npm test with everything covered passes\n${full.code === 0 ? '' : full.out.slice(-2000)}`);
  t.equal(single.code, 0, 'a run of one file is not held to the floor');
  t.match(single.out, /Lines\s*:\s*\d/, 'but still reports its coverage');
});
