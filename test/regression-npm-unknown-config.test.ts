// Regression: every npm command printed `npm warn Unknown project config
// "onnxruntime-node-install"`, from the key in .npmrc that skipped onnxruntime-node's download
// of GPU providers. The skip now lives in package.json's allowScripts, which npm reads without
// a warning; these checks run npm itself, with no variable that could skip the script instead.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ROOT } from './helpers/shared.js';

const run = promisify(execFile);
const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const major = npm.status === 0 ? Number(npm.stdout.trim().split('.')[0]) : 0;
const skip =
  npm.status !== 0
    ? 'npm is not on PATH'
    : major < 11
      ? `npm ${npm.stdout.trim()} does not read allowScripts (npm 10 needs ONNXRUNTIME_NODE_INSTALL=skip, see README)`
      : false;

/** The environment without npm's own variables (set when tests run under `npm test`) or the install flag. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !/^ONNXRUNTIME_NODE_INSTALL/.test(k)));
}

t.test('npm commands in the project print no unknown-config warning', { skip }, async (t) => {
  const { stdout, stderr } = await run('npm', ['config', 'get', 'save-exact'], { cwd: ROOT, env: cleanEnv() });
  t.equal(stdout.trim(), 'true', 'the project .npmrc is read');
  t.notMatch(stderr, /Unknown (project|user|env) config/, 'no warning about a config key npm does not know');
  t.equal(stderr.trim(), '', 'nothing on stderr');
});

t.test("onnxruntime-node's download script is denied by package.json alone", { skip }, async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  t.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'allowScripts denies it');
  // Offline its script fails (the GPU providers are not on the package registry), so a rebuild
  // that succeeded and logged no run of it shows the policy held.
  const r = await run('npm', ['rebuild', 'onnxruntime-node', '--foreground-scripts', '--loglevel=info'], {
    cwd: ROOT,
    env: cleanEnv(),
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, out: (err.stdout ?? '') + (err.stderr ?? '') }),
  );
  t.equal(r.code, 0, 'npm rebuild onnxruntime-node succeeds');
  t.notMatch(r.out, /run onnxruntime-node@[^ ]+ (pre|post)?install/, 'its install script did not run');
  t.notMatch(r.out, /Unknown (project|user|env) config/);
});
