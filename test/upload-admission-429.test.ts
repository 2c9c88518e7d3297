// Admission of uploads: beyond MAX_CONCURRENT_UPLOADS in flight, the next one is refused with a
// 429 and Retry-After before its body is read, and a slot frees up when an upload ends.
import t from 'tap';
import http from 'node:http';
import { CORPUS_ENV } from './corpus/generated.js';
import { skip } from './helpers/corpus-server.js';
import { CSV_TWO_ROWS, FEATURE_HEADER, VALID_ROW, checkReply, send, settled, sleep } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';

t.test('MAX_CONCURRENT_UPLOADS: one upload too many gets 429 with Retry-After, and a slot frees up', { skip }, async (t) => {
  const narrow = await startTestServer({ ...CORPUS_ENV, MAX_CONCURRENT_UPLOADS: '2', REQUEST_IDLE_TIMEOUT_MS: '5000' });
  t.teardown(() => narrow.close());
  const held = [0, 1].map(() => {
    const req = http.request(`${narrow.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, agent: false });
    const done = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    req.write(`${FEATURE_HEADER}\n`);
    return { req, done };
  });
  while (narrow.service.state.uploads.size < 2) await sleep(5);
  const refused = await send(narrow, { headers: { 'content-type': 'text/csv' }, body: CSV_TWO_ROWS });
  checkReply(t, refused, { status: 429, code: 'DL_ERR_TOO_MANY_REQUESTS', detail: 'MAX_CONCURRENT_UPLOADS' }, 'third upload');
  t.equal(refused.headers['retry-after'], '1');
  for (const h of held) h.req.end(`${VALID_ROW}\n`);
  t.same(await Promise.all(held.map((h) => h.done)), [200, 200], 'the two held uploads finish');
  await settled(t, narrow, 'after the held uploads');
  const again = await send(narrow, { headers: { 'content-type': 'text/csv' }, body: CSV_TWO_ROWS });
  t.equal(again.status, 200, 'a slot is free again');
});
