// Regression: /openapi.json left out GET / and GET /report.html. The document is now checked
// against the router's own list of registrations (Service.routes) and against what the server
// answers, so a route added without its entry fails here.
import { existsSync } from 'node:fs';
import t from 'tap';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];

t.test('every route the server registers is in /openapi.json, and every documented route answers', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    ),
  );

  // A GET registered only to answer 405 ("use POST") is not an operation of its own.
  const registered = new Set<string>();
  const stubs = new Set<string>();
  for (const { method, pattern } of srv.service.routes) {
    if (pattern.includes('*') || method === 'any') continue; // the static files and the 404 fallback, checked below
    const m = method === 'ws' ? 'GET' : method === 'del' ? 'DELETE' : method.toUpperCase();
    // HEAD answers as its GET does, a 405 stub's HEAD included.
    if (m === 'HEAD' && (registered.has(`GET ${pattern}`) || stubs.has(pattern))) continue;
    if (m === 'GET' && method !== 'ws' && (await fetch(`${srv.url}${pattern}`)).status === 405) {
      stubs.add(pattern);
      continue;
    }
    registered.add(`${m} ${pattern}`);
  }
  t.ok(registered.size >= 15, `the router's list is read (${registered.size} routes)`);
  t.same(
    [...registered].filter((r) => !documented.has(r)),
    [],
    'every registered route is documented',
  );

  // What the document has beyond the named registrations must be served by the static wildcard.
  const wildcards = srv.service.routes.filter((r) => r.pattern.includes('*')).map((r) => `${r.method} ${r.pattern}`);
  t.ok(wildcards.includes('get /*'), 'static files are served by GET /*');
  const viaStatic = [...documented].filter((d) => !registered.has(d));
  t.same(viaStatic, ['GET /'], 'only the dashboard page comes from the static files');
  for (const d of documented) {
    const [method, p] = d.split(' ') as [string, string];
    if (method !== 'GET' || p === '/ws' || p === '/api/drift/trend') continue;
    const res = await fetch(`${srv.url}${p}`);
    await res.arrayBuffer();
    t.equal(res.status, 200, `${d} answers 200`);
  }
  for (const p of ['/', '/report.html']) t.ok(documented.has(`GET ${p}`), `GET ${p} is documented`);
});
