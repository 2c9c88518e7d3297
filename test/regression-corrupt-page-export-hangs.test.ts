// With a damaged database page, an export stopped at the damaged row and its response never
// ended, with nothing logged. A streamed read that fails after its headers are out now ends
// (NDJSON: a last error line; CSV: the connection is cut), SQLITE_CORRUPT is logged at error
// level with the hint to run PRAGMA integrity_check, and /ready turns 503.
import t from 'tap';
import Database from 'better-sqlite3';
import { closeSync, existsSync, fstatSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { databaseFile } from '../src/store/index.js';
import { send } from './helpers/hostile.js';
import { logRows } from './helpers/logged-rows.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const ROWS = 60_000;

/** Overwrites the pages between `from` and `to` (fractions of the file) with 0xFF. */
function damagePages(file: string, from: number, to: number): number {
  const fd = openSync(file, 'r+');
  try {
    const pages = Math.floor(fstatSync(fd).size / 4096);
    const junk = Buffer.alloc(4096, 0xff);
    let n = 0;
    for (let p = Math.floor(pages * from); p < Math.floor(pages * to); p++, n++) writeSync(fd, junk, 0, junk.length, p * 4096);
    return n;
  } finally {
    closeSync(fd);
  }
}

t.test('an export over a damaged page ends with an error, logs it, and /ready turns 503', { skip, timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const logTo = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      cb();
    },
  });
  const srv = await startTestServer({ LOG_LEVEL: 'warn' }, logTo);
  t.teardown(() => srv.close());
  await logRows(srv.service.state.store, ROWS);
  const file = databaseFile(srv.dataDir);
  // Everything into the main file, so the damage below is what every reader sees.
  const db = new Database(file);
  const cp = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  db.close();
  t.equal(cp[0]?.busy, 0, 'the log is checkpointed into the database file');
  t.ok(damagePages(file, 0.4, 0.6) > 10, 'pages in the middle of the prediction log are damaged');
  t.equal((await fetch(`${srv.url}/ready`)).status, 200, 'ready before anything read the damage');

  const nd = await send(srv, { path: `/api/predictions?limit=${ROWS}`, method: 'GET', timeoutMs: 15_000 });
  t.equal(nd.status, 200);
  t.ok(nd.complete, 'the NDJSON response ended');
  const out = nd.body.toString().trim().split('\n');
  t.ok(out.length > 100 && out.length < ROWS, `rows before the damage were sent (${out.length - 1})`);
  t.match(
    JSON.parse(out.at(-1)!) as unknown,
    { error: { code: 'DL_ERR_STORE_CORRUPT', detail: /integrity_check/ } },
    'its last line is the error',
  );

  const csv = await send(srv, { path: `/api/predictions?limit=${ROWS}&format=csv`, method: 'GET', timeoutMs: 15_000 });
  t.equal(csv.status, 200);
  t.notOk(csv.complete, 'the CSV response is cut (CSV has no room for an error), not left hanging');
  t.ok(csv.body.toString().split('\n').length > 100, 'rows before the damage were sent');

  const ready = await fetch(`${srv.url}/ready`);
  t.equal(ready.status, 503, '/ready turns 503');
  t.match(await ready.json(), { code: 'DL_ERR_NOT_READY', cause: 'DL_ERR_STORE_CORRUPT' });

  const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
  const corrupt = logged.filter((l) => l.level >= 50 && l.code === 'DL_ERR_STORE_CORRUPT');
  t.ok(
    corrupt.some((l) => /PRAGMA integrity_check/.test(l.msg)),
    'the damage is logged at error level with the hint',
  );
  t.ok(
    corrupt.some((l) => /api\/predictions/.test(l.msg)),
    'the failed export is logged with its code',
  );
});
