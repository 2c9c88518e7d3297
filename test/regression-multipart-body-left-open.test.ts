// Regression: the multipart reader joined the body to busboy (and busboy's file part to the
// stream it hands out) with .pipe(), so a form that broke off left the request body open and
// unread behind it, with nothing to tear it down but whoever remembered to. It now composes
// with pipeline(): an error or an early close on either side reaches the other.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { DriftlineError } from '../src/errors.js';
import { multipartFile } from '../src/server/multipart.js';

const BOUNDARY = 'dl-test-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const LIMITS = { maxFileBytes: 1024 * 1024 };

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

t.test('a malformed form tears the body down', async (t) => {
  const body = new PassThrough();
  const found = multipartFile(body, CONTENT_TYPE, LIMITS);
  // A part header line without a colon: busboy gives up on the form.
  body.write(`--${BOUNDARY}\r\nthis is not a header\r\n\r\nx\r\n`);
  await t.rejects(found, { code: 'DL_ERR_BAD_INPUT' });
  await settle();
  t.ok(body.destroyed, 'the body is destroyed, not left open behind the failed form');
});

t.test('a body that fails mid-file reaches the file part’s reader as the same typed error', async (t) => {
  const body = new PassThrough();
  const found = multipartFile(body, CONTENT_TYPE, LIMITS);
  body.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n`);
  const part = await found;
  const read = (async () => {
    for await (const _ of part.stream) void _;
  })();
  body.destroy(new DriftlineError('DL_ERR_TIMEOUT', 'the body stopped arriving'));
  await t.rejects(read, { code: 'DL_ERR_TIMEOUT' });
});
