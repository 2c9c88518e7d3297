// The Dockerfile cannot be built here (no Docker engine), so this checks it against the project
// and replays it: the static part (ports, paths, user, health check, docs) always runs; the
// slow part installs exactly as the `build` and `deps` stages do into a clean copy of the
// repository, assembles the runtime stage's files from its COPY lines, and starts the service
// with the image's CMD and environment.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SECRET_KEYS } from '../src/config.js';
import { section } from './helpers/docs.js';
import { all, copies, dockerignore, envOf, execForm, flags, frontMatter, parseDockerfile, type Stage } from './helpers/dockerfile.js';
import { ROOT } from './helpers/shared.js';

// The replay compiles better-sqlite3 from source (about 80 s on 2 cores) after two npm installs.
t.setTimeout(20 * 60_000);

const run = promisify(execFile);
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const byName = new Map(stages.map((s) => [s.name, s]));
const ignored = dockerignore(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const WORKDIR = '/app';

const one = (stage: Stage, op: string): string => {
  const found = all(stage, op);
  if (found.length !== 1) throw new Error(`stage ${stage.name}: expected one ${op}, found ${found.length}`);
  return found[0]!.args;
};

/** The files of a clean checkout (tracked, plus new files git does not ignore) that Docker would send. */
function contextFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  const files = git.status === 0 ? git.stdout.split('\0').filter((f) => f !== '') : walk(ROOT, '');
  return files.filter((f) => !ignored(f) && existsSync(path.join(ROOT, f)) && statSync(path.join(ROOT, f)).isFile());
}

function walk(dir: string, prefix: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    if (n === 'node_modules' || n === '.git') return [];
    const rel = prefix === '' ? n : `${prefix}/${n}`;
    return statSync(path.join(dir, n)).isDirectory() ? walk(path.join(dir, n), rel) : [rel];
  });
}

t.test('stages: a build on node:20-bookworm, a slim runtime last', async (t) => {
  t.same(
    stages.map((s) => s.name),
    ['build', 'deps', 'runtime'],
  );
  t.equal(byName.get('build')!.image, 'node:20-bookworm');
  t.equal(byName.get('deps')!.image, 'node:20-bookworm');
  t.equal(runtime.image, 'node:20-bookworm-slim');
  for (const s of stages) t.equal(one(s, 'WORKDIR'), WORKDIR, `${s.name} works in ${WORKDIR}`);
  t.same(
    all(runtime, 'RUN').filter((r) => /\b(npm|apt-get|yarn|pnpm)\b/.test(r.args)),
    [],
    'the runtime stage installs nothing',
  );
});

t.test("port: EXPOSE, PORT, the README's app_port and the deployment page's docker run agree", async (t) => {
  const env = envOf(runtime);
  t.equal(one(runtime, 'EXPOSE'), '7860');
  t.equal(env.PORT, '7860');
  t.equal(env.HOST, '0.0.0.0', 'listens on every interface inside the container');
  const fm = frontMatter(readme);
  t.ok(fm !== null && readme.startsWith('---\n'), 'the README starts with front matter');
  t.match(fm, {
    sdk: 'docker',
    app_port: '7860',
    title: String,
    emoji: String,
    colorFrom: String,
    colorTo: String,
    license: String,
    short_description: String,
  });
  t.ok((fm?.short_description ?? '').length <= 60, 'short_description fits the 60 characters Spaces allow');
  const colors = ['red', 'yellow', 'green', 'blue', 'indigo', 'purple', 'pink', 'gray'];
  t.ok(colors.includes(fm?.colorFrom ?? '') && colors.includes(fm?.colorTo ?? ''), 'colorFrom and colorTo are colours Spaces know');
  const deployment = section('Deployment');
  const build = /^docker build -t (\S+) \.$/m.exec(deployment.body);
  const runLine = /^docker run .*$/m.exec(deployment.body)?.[0] ?? '';
  t.ok(build, `${deployment.file} has \`docker build -t <tag> .\``);
  t.match(runLine, / -p 7860:7860 /, 'docker run publishes the exposed port');
  t.ok(runLine.endsWith(` ${build?.[1]}`), 'docker run starts the image docker build tagged');
});

t.test('the user is not root and the data directories are theirs', async (t) => {
  const user = one(runtime, 'USER');
  t.notOk(['root', '0', '0:0'].includes(user), `USER ${user}`);
  t.equal(user, 'node', "node images' uid-1000 user, as Spaces run containers");
  const at = (op: string): number => runtime.instructions.findIndex((i) => i.op === op);
  t.ok(at('USER') < at('CMD'), 'USER comes before CMD');
  const mk = /^mkdir -p (.+?) && chown (\S+) (.+)$/.exec(one(runtime, 'RUN'));
  t.ok(mk, 'the runtime RUN creates and hands over directories');
  t.same(mk?.[1]?.split(' ').sort(), ['data', 'reports']);
  t.same(mk?.[3]?.split(' ').sort(), ['data', 'reports']);
  t.equal(mk?.[2], `${user}:${user}`);
});

t.test('CMD runs the compiled service with node, and the build produces that file', async (t) => {
  const cmd = execForm(one(runtime, 'CMD'));
  t.same(cmd, ['node', 'dist/cli/index.js', 'serve']);
  const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
    compilerOptions: { rootDir: string; outDir: string };
  };
  const source = cmd[1]!
    .replace(new RegExp(`^${build.compilerOptions.outDir}/`), `${build.compilerOptions.rootDir}/`)
    .replace(/\.js$/, '.ts');
  t.ok(existsSync(path.join(ROOT, source)), `${cmd[1]} is compiled from ${source}`);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.equal(pkg.scripts.start, `node ${cmd[1]} ${cmd[2]}`, 'the same command as npm start');
  t.match(pkg.scripts.build, 'tsconfig.build.json');
});

t.test('HEALTHCHECK asks /health with node (no curl in the slim image)', async (t) => {
  const hc = one(runtime, 'HEALTHCHECK');
  const { flags: f, rest } = flags(hc);
  t.match(f, { interval: /^\d+s$/, timeout: /^\d+s$/, 'start-period': /^\d+s$/, retries: /^\d+$/ });
  t.match(rest, /^CMD \[/);
  const cmd = execForm(rest);
  t.equal(cmd[0], 'node');
  t.match(cmd.join(' '), /\/health/);
  t.match(cmd.join(' '), /process\.env\.PORT/, 'follows PORT rather than hard-coding it');
  t.notMatch(cmd.join(' '), /\b(curl|wget)\b/);
});

t.test('every COPY source exists: in the build context, or made by its stage', async (t) => {
  const context = new Set(contextFiles());
  const inContext = (p: string): boolean => context.has(p) || [...context].some((f) => f.startsWith(`${p}/`));
  for (const s of stages) {
    for (const c of copies(s)) {
      for (const src of c.sources) {
        if (c.from === undefined) t.ok(inContext(src), `${s.name}: COPY ${src} is in the context (tracked and not in .dockerignore)`);
        else {
          t.ok(
            byName.has(c.from) && stages.indexOf(byName.get(c.from)!) < stages.indexOf(s),
            `${s.name}: --from=${c.from} is an earlier stage`,
          );
          t.ok(src.startsWith(`${WORKDIR}/`), `${src} is under ${WORKDIR}`);
        }
      }
    }
  }
  // What the runtime reads at start: see loadAssets, MODEL_DIR and program.ts.
  const copied = copies(runtime).flatMap((c) => c.sources.map((src) => path.posix.basename(src)));
  for (const needed of ['node_modules', 'dist', 'package.json', 'models', 'static'])
    t.ok(copied.includes(needed), `the runtime gets ${needed}`);
  t.notOk(copied.includes('src'), 'no TypeScript sources in the runtime');
});

t.test('.dockerignore keeps local state and secrets out of the context', async (t) => {
  for (const p of [
    'node_modules/x/index.js',
    'dist/cli/index.js',
    '.git/HEAD',
    'reports/drift_report.json',
    'data/driftline.db',
    'data/driftline.db-wal',
    '.env',
    'scratch/a.ts',
  ]) {
    t.ok(ignored(p), `${p} is not sent`);
  }
  for (const p of [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'src/cli/index.ts',
    'models/credit-default/v1/model.onnx',
    'static/index.html',
  ]) {
    t.notOk(ignored(p), `${p} is sent`);
  }
});

t.test('no secret is baked into the image', async (t) => {
  const env = Object.keys(stages.reduce<Record<string, string>>((a, s) => ({ ...a, ...envOf(s) }), {}));
  const args = stages.flatMap((s) => all(s, 'ARG').map((a) => a.args.split('=')[0]!));
  for (const k of [...env, ...args]) {
    t.notOk(SECRET_KEYS.has(k) || /KEY|TOKEN|SECRET|PASSWORD|WEBHOOK/i.test(k), `${k} is not a secret`);
  }
});

// ── the replay ───────────────────────────────────────────────────────────────────────────────

const NETWORK_ERROR = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|socket hang up/i;

/** An environment for the replayed commands without what the test runner added. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|TAP|_TAPJS|NODE_OPTIONS$|INIT_CWD$|NODE_ENV$)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function registrySkip(): false | string {
  const ping = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 30_000, env: cleanEnv() });
  return ping.status === 0
    ? false
    : `npm cannot reach the package registry (npm ping: ${(ping.stderr || ping.error?.message || '').trim().split('\n').at(-1)}): the install replay needs it`;
}

/** Docker's COPY: a directory's contents go to the destination; files into a destination ending in /. */
function copyInto(srcRoot: string, c: { sources: string[]; dest: string }, destRoot: string): void {
  const dest = path.join(destRoot, c.dest.startsWith('/') ? path.posix.relative(WORKDIR, c.dest) : c.dest);
  for (const src of c.sources) {
    const from = path.join(srcRoot, src.startsWith('/') ? path.posix.relative(WORKDIR, src) : src);
    if (!existsSync(from)) throw new Error(`COPY ${src}: ${from} does not exist`);
    const target = c.dest.endsWith('/') && statSync(from).isFile() ? path.join(dest, path.basename(src)) : dest;
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(from, target, { recursive: true, verbatimSymlinks: true });
  }
}

type Asserts = Pick<typeof t, 'ok' | 'equal' | 'pass'>;

/** Tools an apt-get line installs, by the command each provides. */
const APT_COMMANDS: Record<string, string> = { python3: 'python3', make: 'make', 'g++': 'g++' };

async function replayStage(t: Asserts, s: Stage, dirs: Map<string, string>, context: string): Promise<void> {
  const dir = dirs.get(s.name)!;
  const env = cleanEnv(envOf(s));
  for (const i of s.instructions) {
    if (i.op === 'COPY') {
      const c = copies({ ...s, instructions: [i] })[0]!;
      copyInto(c.from === undefined ? context : dirs.get(c.from)!, c, dir);
    } else if (i.op === 'RUN' && /\bapt-get install\b/.test(i.args)) {
      // System packages are the image's business; here the commands they provide must exist.
      const pkgs = /apt-get install (.*?)(?:&&|$)/
        .exec(i.args)![1]!
        .split(' ')
        .filter((p) => p !== '' && !p.startsWith('-'));
      for (const p of pkgs) {
        t.ok(APT_COMMANDS[p] !== undefined, `the test knows what apt package ${p} provides`);
        t.equal(
          spawnSync('sh', ['-c', `command -v ${APT_COMMANDS[p] ?? p}`]).status,
          0,
          `${APT_COMMANDS[p] ?? p} (apt ${p}) is on this machine`,
        );
      }
    } else if (i.op === 'RUN') {
      const t0 = Date.now();
      try {
        await run('sh', ['-c', i.args], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        const out = `${e.stderr ?? ''}${e.stdout ?? ''}`;
        if (NETWORK_ERROR.test(out)) throw Object.assign(new Error(`network: ${out.slice(-500)}`), { network: true });
        throw new Error(`${s.name}: RUN ${i.args} failed:\n${out.slice(-4000)}`, { cause: err });
      }
      t.pass(`${s.name}: RUN ${i.args} (${Math.round((Date.now() - t0) / 1000)} s)`);
    }
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

async function waitFor<T>(f: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test("replay: the stages install and build in a clean copy, and the runtime stage's files serve", { skip: registrySkip() }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-docker-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const context = path.join(tmp, 'context');
  for (const f of contextFiles()) {
    mkdirSync(path.dirname(path.join(context, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(context, f));
  }
  const dirs = new Map(stages.map((s) => [s.name, path.join(tmp, s.name)]));
  for (const d of dirs.values()) mkdirSync(d, { recursive: true });

  try {
    for (const s of stages.slice(0, -1)) await replayStage(t, s, dirs, context);
  } catch (err) {
    if ((err as { network?: boolean }).network !== true) throw err;
    // Reachable for `npm ping` but not for the install: say so as a skip, not a failure.
    await t.skip(`the install replay: the package registry is unreachable: ${(err as Error).message}`, () => undefined);
    return;
  }

  // The runtime stage: its COPY lines, and the directories its one RUN makes.
  const app = dirs.get(runtime.name)!;
  for (const c of copies(runtime)) copyInto(c.from === undefined ? context : dirs.get(c.from)!, c, app);
  for (const d of /^mkdir -p (.+?) &&/.exec(one(runtime, 'RUN'))![1]!.split(' ')) mkdirSync(path.join(app, d), { recursive: true });
  t.same(readdirSync(app).sort(), ['data', 'dist', 'models', 'node_modules', 'package.json', 'reports', 'static']);
  for (const dev of ['typescript', 'tap', 'playwright-core', 'tsx'])
    t.notOk(existsSync(path.join(app, 'node_modules', dev)), `devDependency ${dev} is not in the image`);
  t.ok(existsSync(path.join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')), 'better-sqlite3 was built');
  t.ok(existsSync(path.join(app, 'dist', 'cli', 'index.js')), "the build stage produced the CMD's file");

  // CMD with the image's environment; only the port (a free one) and the loopback interface differ.
  const port = await freePort();
  const env = cleanEnv({ ...envOf(runtime), PORT: String(port), HOST: '127.0.0.1' });
  const cmd = execForm(one(runtime, 'CMD'));
  const child = spawn(cmd[0] === 'node' ? process.execPath : cmd[0]!, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 60_000, '/ready');
  } catch (err) {
    t.fail(`the service did not become ready: ${(err as Error).message}\n${output.slice(-3000)}`);
    return;
  }
  const health = await fetch(`${url}/health`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });
  t.equal((await fetch(`${url}/ready`)).status, 200);
  t.match(output, /"implementation":"native"/, 'uWebSockets.js loaded its native binary');
  // What the runtime reads from static/ and from production node_modules.
  for (const p of ['/', '/vendor/echarts.js', '/vendor/alpine.js']) t.equal((await fetch(`${url}${p}`)).status, 200, `GET ${p}`);
  const report = await fetch(`${url}/report.html`);
  t.equal(report.status, 200, 'GET /report.html (ECharts inlined from production node_modules)');
  t.match(await report.text(), '<th scope="row">credit_limit</th>');

  // The HEALTHCHECK command itself, as Docker would run it in the container.
  const hc = execForm(flags(one(runtime, 'HEALTHCHECK')).rest);
  const healthcheck = (): Promise<number> =>
    run(hc[0] === 'node' ? process.execPath : hc[0]!, hc.slice(1), { env, cwd: app, timeout: 10_000 }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? 1,
    );
  t.equal(await healthcheck(), 0, 'HEALTHCHECK passes while the service runs');

  // SIMULATE_TRAFFIC=1 from the image: rows arrive with nobody uploading.
  const rows = await waitFor(
    async () => {
      const d = (await (await fetch(`${url}/api/drift`)).json()) as { window_rows: number };
      return d.window_rows > 0 ? d.window_rows : undefined;
    },
    20_000,
    'simulated rows',
  );
  t.ok(rows > 0, `${rows} simulated rows in the window`);
  t.ok(existsSync(path.join(app, 'data', 'driftline.db')), "the prediction log is in the image's data/");

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops it cleanly');
  t.equal(await healthcheck(), 1, 'HEALTHCHECK fails once the service is gone');
});
