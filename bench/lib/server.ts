// Servers under test run as child processes, so the load generator's CPU and memory never
// mix with theirs and /proc shows the server alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProm, type Series } from './prom.js';
import { sleep } from '../util.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerHandle {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** The last lines the server printed (LOG_LEVEL=warn: only trouble). */
  output(): string;
  metrics(): Promise<Series[]>;
  /** SIGTERM, wait for a graceful exit; returns the CPU profiles written, if profiling. */
  stop(): Promise<{ code: number | null; profiles: string[] }>;
}

const live = new Set<ChildProcess>();
// A crashed or interrupted bench must not leave servers behind on a shared machine.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(sig, () => {
    for (const c of live) c.kill('SIGKILL');
    process.exit(code);
  });
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

function oldestMtime(dir: string, ext: string): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) oldest = Math.min(oldest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return oldest;
}

export type ServerBuild = { entry: string[]; how: string };

/**
 * The service as users run it: dist/, rebuilt when any source is newer than the oldest built
 * file. If the build fails (a colleague mid-edit), the sources run through tsx instead and the
 * report says so, since tsx changes start-up but not steady-state cost.
 */
export function ensureBuilt(log: (s: string) => void): ServerBuild {
  const dist = path.join(ROOT, 'dist');
  let fresh: boolean;
  try {
    fresh = statSync(path.join(dist, 'cli', 'index.js')).isFile() && newestMtime(path.join(ROOT, 'src'), '.ts') < oldestMtime(dist, '.js');
  } catch {
    fresh = false;
  }
  if (!fresh) {
    log('dist/ is older than src/: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) {
      log(
        `build failed, running the sources through tsx instead:\n${(r.stdout + r.stderr)
          .split('\n')
          .filter((l) => l.includes('error'))
          .slice(0, 5)
          .join('\n')}`,
      );
      return {
        entry: ['--import=tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), 'serve'],
        how: 'src/ through tsx (npm run build failed)',
      };
    }
    return { entry: [path.join(dist, 'cli', 'index.js'), 'serve'], how: 'dist/ (rebuilt for this run)' };
  }
  return { entry: [path.join(dist, 'cli', 'index.js'), 'serve'], how: 'dist/ (up to date)' };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  name: string;
  /** node arguments after the flags: script and its arguments. */
  entry: string[];
  env?: Record<string, string>;
  readyPath: string;
  /** Write a V8 CPU profile per thread into this directory (written on exit). */
  profileDir?: string;
}

export async function startServer(o: StartOptions): Promise<ServerHandle> {
  const port = await freePort();
  const flags = o.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`];
  const child = spawn(process.execPath, [...flags, ...o.entry], {
    cwd: ROOT,
    env: { ...process.env, ...o.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (gone) throw new Error(`${o.name} exited during start-up:\n${tail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} not ready after 90 s:\n${tail}`);
    }
    const ok = await fetch(url + o.readyPath).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }

  return {
    name: o.name,
    pid: child.pid!,
    port,
    url,
    output: () => tail,
    metrics: async () => parseProm(await (await fetch(`${url}/metrics`)).text()),
    async stop() {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      const profiles =
        o.profileDir === undefined
          ? []
          : readdirSync(o.profileDir)
              .filter((f) => f.endsWith('.cpuprofile'))
              .map((f) => path.join(o.profileDir!, f));
      return { code, profiles };
    },
  };
}

/**
 * driftline as `serve` runs it, on a throwaway data and reports directory, with every setting
 * that could change the measured work (auth, alert delivery, demo traffic) pinned off.
 */
export async function startDriftline(
  build: ServerBuild,
  opts: { env?: Record<string, string>; profileDir?: string; name?: string } = {},
): Promise<ServerHandle & { dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-data-'));
  const env = {
    DATA_DIR: dataDir,
    REPORTS_DIR: dataDir,
    LOG_LEVEL: 'warn',
    API_KEY: '',
    SIMULATE_TRAFFIC: 'false',
    SMTP_URL: '',
    SLACK_WEBHOOK_URL: '',
    ...opts.env,
  };
  const s = await startServer({
    name: opts.name ?? 'driftline',
    entry: build.entry,
    env,
    readyPath: '/ready',
    ...(opts.profileDir === undefined ? {} : { profileDir: opts.profileDir }),
  });
  return {
    ...s,
    dataDir,
    async stop() {
      const r = await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
      return r;
    },
  };
}

export function startBaseline(): Promise<ServerHandle> {
  return startServer({ name: 'bare uWS', entry: ['--import=tsx', path.join(ROOT, 'bench', 'baseline-server.ts')], readyPath: '/health' });
}
