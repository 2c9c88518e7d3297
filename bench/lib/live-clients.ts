// WebSocket subscribers for the live bench, in a worker thread of the bench process: the
// receipt time is taken on an event loop that autocannon (main thread) never blocks, so the
// measured lag is the server's and not the load generator's.
//
// uWS publishes the same bytes to every subscriber, so each distinct `predictions` message is
// parsed once (keyed by its sent_at and length) and every client's receipt is matched to it:
// 200 clients cost 200 cheap look-ups, not 200 JSON.parse calls competing with the server.
//
// Commands from the parent: open (connect every client; answers ready or failed), measure
// (count from now on), pause (stop counting), close (disconnect; answers closed), result.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface LiveClientsInput {
  url: string;
  clients: number;
  topics: string[];
}

export interface LiveClientsResult {
  /** Clients the server cut off (or that failed) while they were meant to be open. */
  closedEarly: number;
  closeCodes: Record<string, number>;
  /** Messages received while measuring, by topic, over all clients. */
  messages: Record<string, number>;
  bytes: number;
  /** Row lag (receipt − rows[].ts), ms, one sample per row per client, while measuring. */
  lag: { samples: number; p50: number; p95: number; p99: number; max: number };
}

const MAX_LAG_MS = 60_000;

function quantiles(hist: Uint32Array): LiveClientsResult['lag'] {
  let n = 0;
  for (const c of hist) n += c;
  const at = (q: number): number => {
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let ms = 0; ms < hist.length; ms++) {
      seen += hist[ms]!;
      if (seen >= rank) return ms;
    }
    return Number.NaN;
  };
  let max = Number.NaN;
  for (let ms = hist.length - 1; ms >= 0 && Number.isNaN(max); ms--) if (hist[ms]! > 0) max = ms;
  return n === 0
    ? { samples: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max }
    : { samples: n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max };
}

function run(input: LiveClientsInput): void {
  const port = parentPort!;
  const hist = new Uint32Array(MAX_LAG_MS + 2);
  const rowsTs = new Map<string, { at: number; ts: number[] }>();
  const messages: Record<string, number> = {};
  const closeCodes: Record<string, number> = {};
  let bytes = 0;
  let closedEarly = 0;
  let measuring = false;
  let sockets: WebSocket[] = [];
  let closing = false;

  const onMessage = (data: Buffer): void => {
    if (!measuring) return;
    const now = Date.now();
    bytes += data.length;
    const topic = /^\{"type":"(\w+)"/.exec(data.toString('latin1', 0, 32))?.[1] ?? '?';
    messages[topic] = (messages[topic] ?? 0) + 1;
    if (topic !== 'predictions') return;
    const i = data.lastIndexOf('"sent_at":');
    const key = `${data.toString('latin1', i + 10, i + 30)}:${data.length}`;
    let entry = rowsTs.get(key);
    if (entry === undefined) {
      const msg = JSON.parse(data.toString('utf8')) as { data: { rows: { ts: number }[] } };
      entry = { at: now, ts: msg.data.rows.map((r) => r.ts) };
      rowsTs.set(key, entry);
    }
    for (const ts of entry.ts) hist[Math.min(MAX_LAG_MS + 1, Math.max(0, now - ts))]!++;
  };

  // Every client has had each message within a few seconds; older keys only cost memory.
  const sweep = setInterval(() => {
    const old = Date.now() - 10_000;
    for (const [k, v] of rowsTs) if (v.at < old) rowsTs.delete(k);
  }, 2_000);

  const open = (): void => {
    closing = false;
    const url = `${input.url.replace(/^http/, 'ws')}/ws?topics=${input.topics.join(',')}`;
    let helloed = 0;
    let failed = false;
    sockets = Array.from({ length: input.clients }, () => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        if (data.toString('latin1', 0, 16) === '{"type":"hello",') {
          if (++helloed === input.clients) port.postMessage({ type: 'ready' });
          return;
        }
        onMessage(data);
      });
      ws.on('close', (code) => {
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        if (closing) return;
        closedEarly++;
        if (helloed < input.clients && !failed) {
          failed = true;
          port.postMessage({
            type: 'failed',
            detail: `a client closed with ${code} before every client had its hello (${helloed} of ${input.clients})`,
          });
        }
      });
      ws.on('error', () => undefined); // the close that follows is what gets counted
      return ws;
    });
  };

  const close = (): void => {
    closing = true;
    let left = sockets.length;
    const done = (): void => {
      if (--left <= 0) port.postMessage({ type: 'closed' });
    };
    if (left === 0) port.postMessage({ type: 'closed' });
    for (const ws of sockets) {
      if (ws.readyState === WebSocket.CLOSED) done();
      else {
        ws.once('close', done);
        ws.close(1000);
      }
    }
    sockets = [];
  };

  port.on('message', (m: { type: string }) => {
    if (m.type === 'open') open();
    else if (m.type === 'measure') measuring = true;
    else if (m.type === 'pause') measuring = false;
    else if (m.type === 'close') close();
    else if (m.type === 'result') {
      clearInterval(sweep);
      const result: LiveClientsResult = {
        closedEarly,
        closeCodes: { ...closeCodes },
        messages: { ...messages },
        bytes,
        lag: quantiles(hist),
      };
      port.postMessage({ type: 'result', result });
    }
  });
}

if (parentPort !== null && workerData !== undefined) run(workerData as LiveClientsInput);
