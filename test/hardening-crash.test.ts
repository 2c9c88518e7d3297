// A crash must not lose what was acknowledged: the server runs as a child process, a client
// streams a large upload and reads part of the NDJSON results, the server is SIGKILLed, then
// restarted on the same data directory.
import t from 'tap';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DriftWindow, readProfile, snapshot } from '../src/drift/index.js';
import { LogReader } from '../src/store/index.js';
import { BUNDLED_MODEL } from './helpers/server.js';
import { ROOT } from './helpers/shared.js';
import { sampleCsv } from './helpers/fixtures.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const WINDOW = 3000;

function start(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(ROOT, 'src/cli/index.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      REPORTS_DIR: path.join(dataDir, 'reports'),
      MODEL_DIR: BUNDLED_MODEL,
      WINDOW_ROWS: String(WINDOW),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    let port = 0;
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        const m = JSON.parse(line) as { msg: string; port?: number };
        if (m.port !== undefined && port === 0) port = m.port;
        if (m.msg === 'ready') resolve({ child, port });
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
}

t.test('SIGKILL mid-upload: every row the client received is logged; the window rebuilds; the database is intact', { skip }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dl-crash-'));
  const first = await start(dataDir);
  const received: number[] = [];
  let requestId = '';
  const lines = sampleCsv(60_000, { seed: 11 }).split('\n');
  const head = lines[0]!;
  const body = lines.slice(1).filter((l) => l !== '');

  await new Promise<void>((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: first.port,
        path: '/predict',
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
      },
      (res) => {
        requestId = String(res.headers['x-request-id']);
        let carry = '';
        res.on('data', (c: Buffer) => {
          const parts = (carry + c.toString()).split('\n');
          carry = parts.pop()!;
          for (const p of parts) {
            const m = JSON.parse(p) as { row?: number };
            if (m.row !== undefined) received.push(m.row);
          }
          // Kill as soon as a good part of the results arrived, while the upload still streams.
          if (received.length >= 8000 && first.child.exitCode === null) first.child.kill('SIGKILL');
        });
        res.on('error', () => resolve());
        res.on('close', () => resolve());
      },
    );
    req.on('error', () => resolve());
    req.write(`${head}\n`);
    let at = 0;
    const pump = (): void => {
      if (first.child.exitCode !== null || first.child.killed) return void req.destroy();
      if (at >= body.length) return void req.end();
      req.write(`${body.slice(at, at + 2000).join('\n')}\n`);
      at += 2000;
      setTimeout(pump, 5);
    };
    pump();
  });
  await new Promise<void>((r) =>
    first.child.exitCode !== null || first.child.signalCode !== null ? r() : first.child.once('exit', () => r()),
  );
  t.equal(first.child.signalCode, 'SIGKILL', 'the server was killed, not shut down');
  t.ok(received.length >= 8000, `the client received ${received.length} results before the kill`);

  const db = new Database(path.join(dataDir, 'driftline.db'));
  t.teardown(() => db.close());
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check');
  const reader = LogReader.open(path.join(dataDir, 'driftline.db'));
  t.teardown(() => reader.close());
  const all = reader.page(0, 10_000_000);
  const logged = new Set(all.filter((r) => r.request_id === requestId).map((r) => r.row));
  const missing = received.filter((r) => !logged.has(r));
  t.same(missing, [], `all ${received.length} received rows are in the prediction log (${logged.size} logged)`);

  // Restart: the window is rebuilt from the log and must equal one built by replaying it.
  const second = await start(dataDir);
  t.teardown(() => second.child.kill('SIGKILL'));
  const served = (await (await fetch(`http://127.0.0.1:${second.port}/api/drift`)).json()) as {
    window_rows: number;
    features: Record<string, { score: number }>;
    prediction: { score: number };
  };
  const profile = readProfile(path.join(BUNDLED_MODEL, 'reference.json'));
  const replay = new DriftWindow(profile, { capacity: WINDOW });
  // The replay reads the log row by row, in id order, independently of the service's rebuild.
  for (const r of all.slice(-WINDOW)) replay.push(Float32Array.from(r.features), 0, r.probability, r.target ?? Number.NaN);
  const want = snapshot(profile, replay);
  t.equal(served.window_rows, Math.min(WINDOW, logged.size));
  t.same(
    Object.fromEntries(Object.entries(served.features).map(([k, v]) => [k, v.score])),
    Object.fromEntries(Object.entries(want.features).map(([k, v]) => [k, v.score])),
    'every feature score matches the replay',
  );
  t.equal(served.prediction.score, want.prediction!.score);
});
