// Regression: a multipart body with more parts than busboy reads before its `file` field was
// answered DL_ERR_NO_FILE ("has no file field"), which is untrue: busboy had skipped the file.
import t from 'tap';
import { send } from './helpers/hostile.js';
import { TWO_ROWS, multipart, startTestServer } from './helpers/server.js';

const file = { name: 'file', filename: 'data.csv', body: TWO_ROWS };
const fields = (n: number, name = (i: number) => `note${i}`) =>
  Array.from({ length: n }, (_, i) => ({ name: name(i), body: 'x', type: 'text/plain' }));
const files = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `other${i}`, filename: `o${i}.csv`, body: 'a\n1\n' }));

t.test('too many parts or fields before `file`: 413 DL_ERR_MULTIPART_LIMIT naming the limit, not "no file field"', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  // A body past 64 KiB takes the streamed path: a large file part that is not `file` leads.
  const post = async (parts: Parameters<typeof multipart>[0], large = false) => {
    const m = multipart(large ? [{ name: 'padding', filename: 'pad.csv', body: 'x'.repeat(70_000) }, ...parts] : parts);
    const r = await send(srv, { headers: { 'content-type': m.contentType }, body: m.body });
    return { status: r.status, json: JSON.parse(r.body.toString()) as Record<string, unknown> };
  };
  for (const large of [false, true]) {
    const how = large ? 'streamed' : 'buffered';
    const parts = await post([...files(200), file], large);
    t.equal(parts.status, 413, `${how}: 200 other file parts first`);
    t.match(parts.json, { code: 'DL_ERR_MULTIPART_LIMIT', limit: 'parts', max: 128, detail: /limit of 128 parts/ });

    const many = await post([...fields(100), file], large);
    t.equal(
      many.status,
      200,
      `${how}: 100 fields and then the file is within the parts limit (busboy skips the fields past 64 and reads the file)`,
    );

    const noFile = await post([...fields(100)], large);
    t.equal(noFile.status, 413, `${how}: past the fields limit with no file`);
    t.match(noFile.json, { code: 'DL_ERR_MULTIPART_LIMIT', limit: 'fields', max: 64 });
  }
  const none = await post([{ name: 'upload', filename: 'x.csv', body: TWO_ROWS }]);
  t.match(none, { status: 400, json: { code: 'DL_ERR_NO_FILE' } }, 'a small form without a file field is still DL_ERR_NO_FILE');
  const fine = await post([...files(100), file]);
  t.equal(fine.status, 200, '101 parts, the file within the limit, is read');
});
