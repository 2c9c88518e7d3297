// A throwaway PostgreSQL cluster for a test file: initdb into a temp dir, started on a free
// port with its socket in that dir, stopped and removed when the file's tests end (also when
// they fail, and on process exit). The server refuses to run as root, so as root the cluster
// belongs to the `postgres` user (Debian's package creates it) and runs under runuser.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgCluster {
  skip: false;
  /** A connection string to the cluster's `postgres` database. */
  url: string;
  /** Creates a fresh, empty database and returns its connection string (isolates subtests). */
  database(name?: string): Promise<string>;
  /** What start-up cost (initdb + start), in ms, for reports. */
  startMs: number;
  /**
   * Stops the server as an operator would (`pg_ctl stop -m fast`: sessions are terminated,
   * new connections refused), and starts it again on the same port. Without blocking the
   * event loop, so services in this process keep running through the outage.
   */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface PgSkip {
  /** Why PostgreSQL cannot run here. */
  skip: string;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The directory holding initdb and pg_ctl, or why there is none. */
export function findBinaries(): { bindir: string } | { missing: string } {
  const candidates: string[] = [];
  if (process.env.PG_BINDIR !== undefined) candidates.push(process.env.PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config comes with libpq-dev, not with the server: look where Debian puts the server.
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, 'initdb'))) candidates.push(dir);
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    // Newest major version first.
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(root, v, 'bin'));
  }
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return { bindir: dir };
  }
  return {
    missing: `PostgreSQL's initdb and pg_ctl were not found (PG_BINDIR, pg_config --bindir, PATH, /usr/lib/postgresql/*/bin): install the postgresql package (.ci/run does)`,
  };
}

/** A port nobody listens on right now (the server binds it a moment later; start() retries on a clash). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * The initdb output kept for this PostgreSQL and user, made if missing; undefined if it cannot
 * be made (callers then run initdb themselves). Made in `scratch` and renamed into place, so a
 * test file running beside this one sees it whole or not at all.
 */
function templateDir(
  bindir: string,
  run: (bin: string, args: string[]) => ReturnType<typeof spawnSync>,
  initdb: (into: string) => ReturnType<typeof spawnSync>,
  scratch: string,
): string | undefined {
  const version = String(run('initdb', ['--version']).stdout).trim();
  const key = createHash('sha256')
    .update(`${bindir}\n${version}\n${process.getuid?.() ?? ''}`)
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(os.tmpdir(), `driftline-pg-template-${key}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  // Only ever renamed into place whole: without PG_VERSION it is a damaged one, not one being made.
  rmSync(dir, { recursive: true, force: true });
  const building = path.join(scratch, 'template');
  if (initdb(building).status !== 0) return undefined;
  try {
    renameSync(building, dir);
  } catch {
    // Another test file put its template there first: use that one.
    rmSync(building, { recursive: true, force: true });
  }
  return existsSync(path.join(dir, 'PG_VERSION')) ? dir : undefined;
}

/**
 * Starts one cluster for the calling test file and registers its removal on `t`. Returns
 * `{ skip }` with the exact reason when PostgreSQL is absent or cannot start here.
 */
export async function startPostgres(t: Teardown): Promise<PgCluster | PgSkip> {
  const found = findBinaries();
  if ('missing' in found) return { skip: found.missing };
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  if (asRoot && owner === undefined)
    return { skip: 'running as root and there is no `postgres` user to own the cluster (PostgreSQL refuses to run as root)' };
  const run = (bin: string, args: string[]): ReturnType<typeof spawnSync> => {
    const exe = path.join(found.bindir, bin);
    return asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', exe, ...args], { encoding: 'utf8', timeout: 60_000 })
      : spawnSync(exe, args, { encoding: 'utf8', timeout: 60_000 });
  };

  const began = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-pg-'));
  const data = path.join(dir, 'data');
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  let started = false;
  const stop = (): void => {
    if (started) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  // t.teardown runs when the file's tests end, failed or not; 'exit' covers a test process
  // that ends without it (an uncaught error). A process killed by a signal (tap's timeout)
  // runs neither, so a detached watchdog shell stops the server and removes the dir once this
  // process is gone: no postgres outlives its test.
  const onExit = (): void => stop();
  process.once('exit', onExit);
  // Once a test file that ran servers against this cluster has finished, Node's exit sometimes
  // spins forever in its last clean-up of handles (Environment::CleanupHandles, 100 % CPU, seen
  // under gdb in about 1 run in 6 of regression-pg-unreachable on the loaded machine, and as a
  // tap timeout in CI), after every test passed. Exiting at 'beforeExit' — the loop is empty,
  // nothing is left to run — ends the process the way process.exit does, without that step.
  process.once('beforeExit', (code) => process.exit(code));
  const pgCtl = path.join(found.bindir, 'pg_ctl');
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const asOwner = asRoot ? `runuser -u postgres -- ${q(pgCtl)}` : q(pgCtl);
  spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; [ -d ${q(data)} ] && ${asOwner} -D ${q(data)} -m immediate -w stop; rm -rf ${q(dir)}`,
    ],
    {
      detached: true,
      stdio: 'ignore',
    },
  ).unref();
  t.teardown(() => {
    process.removeListener('exit', onExit);
    stop();
  });

  // --no-sync, fsync=off: a throwaway cluster needs no durability against power loss, and
  // they cut start-up and every commit by the disk's flush time.
  const initdb = (into: string): ReturnType<typeof spawnSync> =>
    run('initdb', ['-D', into, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
  const fresh = (): string | undefined => {
    rmSync(data, { recursive: true, force: true });
    const init = initdb(data);
    return init.status === 0
      ? undefined
      : `initdb failed (${init.status ?? init.signal}): ${String(init.stderr).trim().split('\n').slice(-3).join(' ')}`;
  };
  // initdb is most of the start-up (2.3 s against 0.9 s for copying its output, on the loaded
  // 2-core machine): the first test file on a machine keeps its output as a template, the
  // others copy it.
  const template = templateDir(found.bindir, run, initdb, dir);
  let fromTemplate = template !== undefined && spawnSync('cp', ['-a', template, data]).status === 0;
  if (!fromTemplate) {
    const failed = fresh();
    if (failed !== undefined) {
      stop();
      return { skip: failed };
    }
  }
  let port = 0;
  let lastError = '';
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
    const r = run('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    if (r.status === 0) started = true;
    else lastError = `${String(r.stdout).trim()} ${String(r.stderr).trim()}`;
    if (!started && fromTemplate) {
      // A damaged template (a /tmp cleaner took part of it): drop it, initdb afresh.
      rmSync(template!, { recursive: true, force: true });
      fromTemplate = false;
      const failed = fresh();
      if (failed !== undefined) {
        stop();
        return { skip: failed };
      }
    }
  }
  if (!started) {
    stop();
    return { skip: `pg_ctl could not start PostgreSQL: ${lastError}` };
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ctl = (args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const exe = path.join(found.bindir, 'pg_ctl');
      const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
      execFile(cmd, argv, { timeout: 60_000 }, (err) => (err === null ? resolve() : reject(err)));
    });
  const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
  let n = 0;
  return {
    skip: false,
    url,
    startMs: Math.round(performance.now() - began),
    async stop() {
      await ctl(['-D', data, '-m', 'fast', '-w', 'stop']);
      started = false;
    },
    async start() {
      await ctl(['-D', data, '-o', serverOpts, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
      started = true;
    },
    async database(name = `t${++n}`) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  };
}
