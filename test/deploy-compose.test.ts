// deploy/compose.yaml cannot be run here (no Docker engine), so this checks it against the
// project and replays it: every service, variable, port and file it names exists and agrees
// with the others, nginx.conf routes to the replicas it defines and upgrades /ws; then a real
// PostgreSQL and three replicas, each in its own process with the environment its container
// would get (the image's ENV, then the file's), come up healthy by the file's own health
// checks and act as one cluster.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { WebSocket } from 'ws';
import { configSchema, SECRET_KEYS } from '../src/config.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { interpolate, parseCompose, variablesIn, type Node } from './helpers/compose.js';
import { envOf, parseDockerfile } from './helpers/dockerfile.js';
import { sampleCsv } from './helpers/fixtures.js';
import { findBinaries, startPostgres } from './helpers/postgres.js';
import { ROOT } from './helpers/shared.js';
import { until } from './helpers/until.js';

const DEPLOY = path.join(ROOT, 'deploy');
const composeText = readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8');
const compose = parseCompose(composeText) as Record<string, Node>;
const services = compose.services as Record<string, Record<string, Node>>;
const nginx = readFileSync(path.join(DEPLOY, 'nginx.conf'), 'utf8');
const imageEnv = envOf(parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).at(-1)!);
const REPLICAS = ['replica-1', 'replica-2', 'replica-3'];

const map = (n: Node | undefined): Record<string, Node> => (n !== null && typeof n === 'object' && !Array.isArray(n) ? n : {});
const list = (n: Node | undefined): string[] => (Array.isArray(n) ? (n as string[]) : []);
const envOfService = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(map(services[name]!.environment)).map(([k, v]) => [k, String(v)]));

t.test('services: PostgreSQL 15, three replicas of one image built from the Dockerfile, a load balancer', async (t) => {
  t.same(Object.keys(services).sort(), ['lb', 'postgres', ...REPLICAS].sort());
  t.equal(services.postgres!.image, 'postgres:15', 'PostgreSQL 15 (the elector’s idle_session_timeout needs 14 or newer)');
  const built = REPLICAS.filter((r) => services[r]!.build !== undefined);
  t.same(built, ['replica-1'], 'the image is built once');
  const build = map(services['replica-1']!.build);
  const context = path.resolve(DEPLOY, String(build.context));
  t.equal(context, path.resolve(ROOT), 'built from the repository root');
  t.ok(existsSync(path.join(context, String(build.dockerfile))), 'the Dockerfile it names exists');
  for (const r of REPLICAS) t.equal(services[r]!.image, services['replica-1']!.image, `${r} runs the same image`);
  for (const r of REPLICAS.slice(1)) t.equal(services[r]!.pull_policy, 'never', `${r} never looks for the local image in a registry`);
  for (const [name, svc] of Object.entries(services)) {
    for (const dep of Object.keys(map(svc.depends_on))) t.ok(dep in services, `${name} depends on ${dep}, a service of the file`);
  }
  const named = Object.keys(map(compose.volumes));
  for (const [name, svc] of Object.entries(services)) {
    for (const v of list(svc.volumes)) {
      const src = v.split(':')[0]!;
      if (src.startsWith('.')) t.ok(existsSync(path.resolve(DEPLOY, src)), `${name} mounts ${src}, which exists under deploy/`);
      else t.ok(named.includes(src), `${name}'s volume ${src} is declared`);
    }
  }
});

t.test('replicas: known settings, distinct REPLICA_IDs, a DATABASE_URL that names the postgres service, health on /ready', async (t) => {
  const known = new Set(Object.keys(configSchema.shape));
  const pgEnv = envOfService('postgres');
  t.same(variablesIn(pgEnv.POSTGRES_PASSWORD!), ['POSTGRES_PASSWORD'], 'the database password comes from the operator, not the file');
  t.throws(() => interpolate(pgEnv.POSTGRES_PASSWORD!, {}), /POSTGRES_PASSWORD/, 'and is required');
  const ids = new Set<string>();
  for (const r of REPLICAS) {
    const env = envOfService(r);
    for (const k of Object.keys(env)) t.ok(known.has(k), `${r}: ${k} is a setting of src/config.ts`);
    for (const k of Object.keys(env).filter((k) => SECRET_KEYS.has(k)))
      t.ok(variablesIn(env[k]!).length > 0, `${r}: the secret ${k} takes its credentials from the environment`);
    const merged = { ...imageEnv, ...env, DATABASE_URL: interpolate(env.DATABASE_URL!, { POSTGRES_PASSWORD: 'pw' }) };
    t.doesNotThrow(() => configSchema.parse(merged), `${r}: the container's settings are valid`);
    ids.add(env.REPLICA_ID!);
    const u = new URL(merged.DATABASE_URL);
    t.equal(u.hostname, 'postgres', `${r}: the database host is the postgres service`);
    t.equal(u.port, '5432');
    t.equal(u.username, pgEnv.POSTGRES_USER, `${r}: the user PostgreSQL creates`);
    t.equal(u.pathname.slice(1), pgEnv.POSTGRES_DB, `${r}: the database PostgreSQL creates`);
    t.equal(u.password, 'pw', `${r}: the operator's password`);
    t.equal(map(map(services[r]!.depends_on).postgres).condition, 'service_healthy', `${r} waits for PostgreSQL to be healthy`);
    const check = list(map(services[r]!.healthcheck).test);
    t.equal(check[0], 'CMD', `${r}: an exec-form health check`);
    t.match(check.join(' '), /\/ready'/, `${r}: the health check asks /ready`);
  }
  t.equal(ids.size, 3, 'three distinct REPLICA_IDs');
  t.notOk('ports' in services['replica-1']!, 'replicas are reached through the load balancer only');
});

t.test('nginx.conf: the replicas as upstreams on the image’s port, streaming both ways, WebSocket upgrade on /ws', async (t) => {
  const lb = services.lb!;
  const port = imageEnv.PORT;
  const upstreams = [...nginx.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  t.same(upstreams.sort(), REPLICAS.map((r) => `${r}:${port}`).sort(), 'one upstream server per replica service');
  const [, , inside] = /^"?(\d+):(\d+)"?$/.exec(list(lb.ports)[0] ?? '') ?? [];
  t.ok(inside !== undefined, 'the load balancer publishes a port');
  t.match(nginx, new RegExp(`^\\s*listen ${inside};`, 'm'), 'nginx listens on the port the file publishes');
  t.ok(
    list(lb.volumes).some((v) => v.startsWith('./nginx.conf:/etc/nginx/nginx.conf')),
    'the config is mounted where nginx reads it',
  );
  for (const r of REPLICAS) t.equal(map(map(lb.depends_on)[r]).condition, 'service_healthy', `lb waits for ${r} to be ready`);
  const ws = /location \/ws \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
  t.match(ws, /proxy_http_version 1\.1;/);
  t.match(ws, /proxy_set_header Upgrade \$http_upgrade;/);
  t.match(ws, /proxy_set_header Connection \$connection_upgrade;/);
  t.match(nginx, /map \$http_upgrade \$connection_upgrade/);
  t.match(nginx, /proxy_request_buffering off;/, 'uploads stream through');
  t.match(nginx, /proxy_buffering off;/, 'results stream back');
  t.notMatch(nginx, /non_idempotent/, 'an upload is never sent again to another replica');
});

t.test('docs: deployment.md and scale-out.md describe the file', async (t) => {
  const deployment = readFileSync(path.join(ROOT, 'docs/deployment.md'), 'utf8');
  const scaleOut = readFileSync(path.join(ROOT, 'docs/scale-out.md'), 'utf8');
  t.match(deployment, /docker compose -f deploy\/compose\.yaml up/);
  t.match(scaleOut, /deploy\/compose\.yaml/);
  t.match(composeText, /docker compose -f deploy\/compose\.yaml up/, 'the file says how to run it, as the docs do');
});

const cluster = await startPostgres(t);

async function leads(srv: ChildServer): Promise<boolean> {
  return /^driftline_leader\{[^}]*\} 1$/m.test(await (await fetch(`${srv.url}/metrics`)).text());
}

t.test(
  'replay: PostgreSQL as the file sets it up, three replicas with their containers’ environment, healthy by the file’s checks, one cluster',
  { skip: cluster.skip, timeout: 90_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const pgEnv = envOfService('postgres');
    const password = randomBytes(12).toString('hex');
    // What the postgres image does on first start with POSTGRES_USER, _PASSWORD and _DB.
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${pgEnv.POSTGRES_USER} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${pgEnv.POSTGRES_DB} OWNER ${pgEnv.POSTGRES_USER}`);
    await admin.end();
    const here = new URL(cluster.url);

    const found = findBinaries();
    if ('bindir' in found) {
      const [kind, cmd] = list(map(services.postgres!.healthcheck).test);
      t.equal(kind, 'CMD-SHELL');
      const r = spawnSync('sh', ['-c', cmd!], {
        env: { ...process.env, PATH: `${found.bindir}:${process.env.PATH}`, PGHOST: here.hostname, PGPORT: here.port },
        encoding: 'utf8',
      });
      t.equal(r.status, 0, `PostgreSQL's health check passes: ${r.stdout.trim()}`);
    }

    const replicas = await Promise.all(
      REPLICAS.map((name) => {
        const env = envOfService(name);
        const url = new URL(interpolate(env.DATABASE_URL!, { POSTGRES_PASSWORD: password }));
        // Compose's network maps `postgres:5432` to the service; here it is this test's cluster.
        url.hostname = here.hostname;
        url.port = here.port;
        // Each container has a network of its own; on one host the replicas need a port each.
        return startChildServer({ ...imageEnv, ...env, DATABASE_URL: url.toString(), PORT: '0', HOST: '127.0.0.1' });
      }),
    );
    t.teardown(() => replicas.forEach((r) => r.kill()));

    const check = list(map(services['replica-1']!.healthcheck).test);
    for (const [i, r] of replicas.entries()) {
      await until(`${REPLICAS[i]} to be ready`, async () => (await fetch(`${r.url}/ready`)).status === 200);
      const run = spawnSync(check[1] === 'node' ? process.execPath : check[1]!, check.slice(2), {
        env: { ...process.env, PORT: String(r.port) },
        encoding: 'utf8',
        timeout: 15_000,
      });
      t.equal(run.status, 0, `${REPLICAS[i]}: the file's health check passes`);
      t.match(await (await fetch(`${r.url}/metrics`)).text(), `replica="${REPLICAS[i]}"`, `${REPLICAS[i]} reports its REPLICA_ID`);
    }

    for (const [i, r] of replicas.entries()) {
      const res = await fetch(`${r.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'application/json' },
        body: sampleCsv(50, { seed: i + 1 }),
      });
      t.equal(res.status, 200, `${REPLICAS[i]} takes an upload`);
    }
    const windows = async (): Promise<number[]> =>
      Promise.all(replicas.map(async (r) => ((await (await fetch(`${r.url}/api/drift`)).json()) as { window_rows: number }).window_rows));
    await until('every window to hold the 150 rows uploaded across the cluster', async () => (await windows()).every((n) => n === 150));
    await until('one replica to lead', async () => (await Promise.all(replicas.map(leads))).filter(Boolean).length === 1);
    t.pass('every window holds all three replicas’ rows, and exactly one replica leads');

    // What nginx forwards on /ws is a plain upgrade: a replica answers it directly.
    const hello = await new Promise<{ data?: { recent?: unknown[] } }>((resolve, reject) => {
      const ws = new WebSocket(`${replicas[2]!.url.replace('http', 'ws')}/ws?topics=predictions`);
      ws.once('message', (m) => {
        resolve(JSON.parse(String(m)) as never);
        ws.close();
      });
      ws.once('error', reject);
    });
    t.equal(hello.data?.recent?.length, 100, 'a dashboard connects over /ws and is sent the cluster’s newest rows');
  },
);
