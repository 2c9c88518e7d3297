// A POST-only route asked with another method answers 405 with an Allow header naming POST.
import t from 'tap';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { checkReply, send } from './helpers/hostile.js';

const server = corpusServer();

t.test('GET /predict is 405 with Allow: POST', { skip }, async (t) => {
  const srv = server();
  const r = await send(srv, { method: 'GET' });
  checkReply(t, r, { status: 405, code: 'DL_ERR_METHOD_NOT_ALLOWED' }, 'GET /predict');
  t.equal(r.headers.allow, 'POST');
});
