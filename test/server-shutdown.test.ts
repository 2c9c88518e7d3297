// Graceful shutdown: the listen socket closes at once, and an upload in flight still gets all
// its rows scored before the service stops.
import t from 'tap';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

const ROW = '20000,24,2,2,3913,3102,0,689\n';
const HEAD = 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\n';

t.test('graceful shutdown: an upload in flight finishes; new connections are refused', { skip }, async (t) => {
  const g = await startTestServer();
  let status = 0;
  let body = '';
  const done = new Promise<void>((resolve, reject) => {
    const req = http.request(`${g.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.write(HEAD + ROW.repeat(100));
    setTimeout(() => {
      req.write(ROW.repeat(100));
      req.end();
    }, 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const stopping = g.service.shutdown();
  await new Promise((r) => setTimeout(r, 50));
  await t.rejects(fetch(`${g.url}/health`), 'the listen socket is closed');
  await done;
  await stopping;
  t.equal(status, 200);
  t.equal((JSON.parse(body) as { n_rows: number }).n_rows, 200, 'the in-flight upload got all its rows');
});
