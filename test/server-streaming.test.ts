// Results stream back while the upload is still arriving: a client sees its first rows scored
// long before it has sent its last.
import t from 'tap';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(async () => srv?.close());

const ROW = '20000,24,2,2,3913,3102,0,689\n';
const HEAD = 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\n';

t.test('a 100,000-row upload streams its first NDJSON line back before the upload has finished', { skip }, async (t) => {
  const rows = 100_000;
  const chunkRows = 1000;
  let sentRows = 0;
  let firstLineAfterRows = -1;
  let lines = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      `${srv.url}/predict`,
      { method: 'POST', headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' } },
      (res) => {
        t.equal(res.statusCode, 200);
        let carry = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (firstLineAfterRows === -1 && c.includes('\n')) firstLineAfterRows = sentRows;
          const parts = (carry + c).split('\n');
          carry = parts.pop()!;
          lines += parts.length;
        });
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(HEAD);
    const pump = (): void => {
      // Paced like a real client on a network: the server must answer while this still sends.
      if (sentRows >= rows) return void req.end();
      req.write(ROW.repeat(chunkRows));
      sentRows += chunkRows;
      setTimeout(pump, 2);
    };
    pump();
  });
  t.ok(
    firstLineAfterRows > 0 && firstLineAfterRows < rows,
    `first result line arrived after ${firstLineAfterRows} of ${rows} rows were sent`,
  );
  t.equal(lines, rows + 1, 'one line per row plus the summary');
});
