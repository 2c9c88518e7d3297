// The ceiling for POST /predict: a bare uWebSockets.js handler on the same binary that reads
// the whole body and answers a fixed JSON the size of a 5-row driftline response, so the
// bench's ratio is driftline's own cost (routing, parsing, model, log, sketches) and nothing
// of the transport.
//
//   PORT=8001 node --import=tsx bench/baseline-server.ts
//
// It copies every chunk, as a real handler must (uWS neuters them after the callback), and
// checks the byte count against Content-Length; GET /stats lets the bench confirm that every
// body was read to its end.
import { loadUws } from '../src/server/uws.js';

const { uws, implementation } = loadUws();
if (implementation !== 'native')
  throw new Error('uWebSockets.js fell back to its JavaScript implementation; the baseline would be meaningless');

const RESULT = JSON.stringify({
  model_version: '1',
  request_id: '00000000-0000-4000-8000-000000000000',
  results: Array.from({ length: 5 }, (_, row) => ({ row, probability: 0.1234, prediction: 'No Default', risk_level: 'Low' })),
  errors: [],
  n_rows: 5,
  n_rejected: 0,
  took_ms: 0.1,
});

let requests = 0;
let bytes = 0;
let mismatched = 0;

const app = uws.App();
app.post('/*', (res, req) => {
  const declared = Number(req.getHeader('content-length'));
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const parts: Buffer[] = [];
  let got = 0;
  res.onData((chunk, isLast) => {
    parts.push(Buffer.from(chunk.slice(0)));
    got += chunk.byteLength;
    if (!isLast || aborted) return;
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    requests++;
    bytes += body.length;
    const ok = body.length === declared;
    if (!ok) mismatched++;
    res.cork(() => {
      res
        .writeStatus(ok ? '200 OK' : '400 Bad Request')
        .writeHeader('content-type', 'application/json')
        .end(ok ? RESULT : `{"detail":"read ${got} of ${declared} bytes"}`);
    });
  });
});
app.get('/health', (res) => void res.end('{"status":"ok"}'));
app.get('/stats', (res) => void res.writeHeader('content-type', 'application/json').end(JSON.stringify({ requests, bytes, mismatched })));

const port = Number(process.env.PORT ?? 8001);
let listening: unknown;
app.listen(process.env.HOST ?? '127.0.0.1', port, (sock) => {
  if (sock === false) throw new Error(`cannot listen on ${port}`);
  listening = sock;
});
process.once('SIGTERM', () => {
  uws.us_listen_socket_close(listening as Parameters<typeof uws.us_listen_socket_close>[0]);
  process.exit(0);
});
