// With API_KEY set, a write needs it as a bearer token, compared in constant time, and the 401
// never echoes it; reads stay open. (security.test.ts checks every write route needs it.)
import t from 'tap';
import { existsSync } from 'node:fs';
import { BUNDLED_MODEL, TWO_ROWS, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

t.test('API key: POST needs a bearer token (constant-time compared); reads stay open', { skip }, async (t) => {
  const k = await startTestServer({ API_KEY: 's3cret-key' });
  t.teardown(() => k.close());
  const send = (auth?: string) =>
    fetch(`${k.url}/predict`, {
      method: 'POST',
      body: TWO_ROWS,
      headers: { 'content-type': 'text/csv', ...(auth === undefined ? {} : { authorization: auth }) },
    });
  const none = await send();
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer');
  t.notMatch(await none.text(), 's3cret');
  t.equal((await send('Bearer wrong')).status, 401);
  t.equal((await send('Bearer s3cret-key-longer')).status, 401);
  const ok = await send('Bearer s3cret-key');
  t.equal(ok.status, 200);
  await ok.text();
  t.equal((await fetch(`${k.url}/api/drift`)).status, 200);
  t.equal((await fetch(`${k.url}/health`)).status, 200);
});
