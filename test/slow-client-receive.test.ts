// Clients that send their head or body a byte at a time (slowloris) hold no more than their own
// connection: other clients are served meanwhile, and the server cuts the dribblers off.
import t from 'tap';
import net from 'node:net';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { CSV_TWO_ROWS, send, settled, sleep } from './helpers/hostile.js';

const server = corpusServer();

t.test('slowloris and slow bodies: others are served meanwhile, the dribblers are cut off', { skip }, async (t) => {
  const srv = server();
  const head = `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nX-Pad: ${'a'.repeat(4000)}\r\n\r\n`;
  const dribblers: { closed: boolean; at: number; timer?: NodeJS.Timeout }[] = [];
  const t0 = performance.now();
  const dribble = (data: string, everyMs: number): void => {
    const d: (typeof dribblers)[number] = { closed: false, at: 0 };
    const s = net.connect(srv.port, '127.0.0.1');
    let i = 0;
    s.on('error', () => undefined);
    s.on('close', () => {
      d.closed = true;
      d.at = performance.now() - t0;
      clearInterval(d.timer);
    });
    d.timer = setInterval(() => {
      if (i < data.length && !s.destroyed) s.write(data[i++]!);
    }, everyMs);
    dribblers.push(d);
  };
  // 20 clients sending their headers a byte at a time; 5 whose headers are whole but whose body
  // comes a byte every 200 ms (uWS wants 16 KiB/s of body on average).
  for (let i = 0; i < 20; i++) dribble(head, 100);
  const slowBody = `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: ${CSV_TWO_ROWS.length}\r\n\r\n`;
  for (let i = 0; i < 5; i++) {
    const s = net.connect(srv.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(slowBody);
    const d: (typeof dribblers)[number] = { closed: false, at: 0 };
    let k = 0;
    d.timer = setInterval(() => {
      if (k < CSV_TWO_ROWS.length && !s.destroyed) s.write(CSV_TWO_ROWS[k++]!);
    }, 200);
    s.on('close', () => {
      d.closed = true;
      d.at = performance.now() - t0;
      clearInterval(d.timer);
    });
    dribblers.push(d);
  }
  await sleep(500);
  t.equal(srv.service.state.uploads.size, 5, 'the slow bodies hold upload slots meanwhile');
  const latencies: number[] = [];
  while (performance.now() - t0 < 8000) {
    const r = await send(srv, { headers: { 'content-type': 'text/csv' }, body: CSV_TWO_ROWS, timeoutMs: 3000 });
    t.equal(r.status, 200, 'another client is served while they dribble');
    latencies.push(r.ms);
    await sleep(250);
  }
  t.ok(Math.max(...latencies) < 2000, `${latencies.length} requests served meanwhile, slowest ${Math.round(Math.max(...latencies))} ms`);
  while (dribblers.some((d) => !d.closed) && performance.now() - t0 < 20_000) await sleep(100);
  for (const d of dribblers) clearInterval(d.timer);
  t.ok(
    dribblers.every((d) => d.closed),
    `every dribbling socket was closed by the server (last at ${Math.round(Math.max(...dribblers.map((d) => d.at)))} ms)`,
  );
  await settled(t, srv, 'slowloris');
});
