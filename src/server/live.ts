import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { decision, decisionLabel, riskLevel, roundProbability, type ModelCard } from '../model/index.js';
import type { Batch } from '../pipeline/index.js';
import type { DecodedBatch, LoggedRow } from '../store/index.js';

export const TOPICS = ['drift', 'predictions', 'alerts', 'stats'] as const;
export type Topic = (typeof TOPICS)[number];
export const MESSAGE_VERSION = 1;

const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), topics: z.array(z.enum(TOPICS)).min(1) }),
  z.object({ type: z.literal('unsubscribe'), topics: z.array(z.enum(TOPICS)).min(1) }),
]);

interface Peer {
  topics: Set<Topic>;
  closed?: boolean;
}

export interface LiveOptions {
  log: Logger;
  /**
   * What a client gets on connect (model summary, current snapshot, …), given the topics it
   * subscribes to. A promise (a read from a shared log) delays the hello and the subscriptions
   * together, so that nothing is pushed to a client before its hello.
   */
  hello: (topics: readonly Topic[]) => unknown;
  /** Allowed Origin values; empty allows any (the dashboard is same-origin). */
  allowedOrigins: readonly string[];
  onClients: (n: number) => void;
  /** False while the service is loading or shutting down: upgrades get 503. */
  accepting: () => boolean;
}

export const envelope = (type: string, data: unknown): string => JSON.stringify({ type, v: MESSAGE_VERSION, data });

function parseTopics(q: string): Topic[] | string {
  if (q === '') return [...TOPICS];
  const wanted = q
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const bad = wanted.filter((t) => !(TOPICS as readonly string[]).includes(t));
  return bad.length > 0 ? `unknown topic(s): ${bad.join(', ')} (known: ${TOPICS.join(', ')})` : (wanted as Topic[]);
}

/**
 * WebSocket push on /ws. Fan-out is uWS's own pub/sub (C++), and a client that stops reading
 * is cut off at maxBackpressure instead of holding memory (closeOnBackpressureLimit).
 */
export class LiveHub {
  private readonly sockets = new Set<WebSocket<Peer>>();
  private app: TemplatedApp | undefined;

  constructor(private readonly opts: LiveOptions) {}

  get clients(): number {
    return this.sockets.size;
  }

  register(app: TemplatedApp): void {
    this.app = app;
    app.ws<Peer>('/ws', {
      maxPayloadLength: 16 * 1024,
      // 1 MiB of unsent messages per client: a few seconds of every topic at full rate.
      maxBackpressure: 1024 * 1024,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (!this.opts.accepting()) {
          res
            .writeStatus('503 Service Unavailable')
            .end(JSON.stringify({ detail: 'The service is starting or shutting down', code: 'DL_ERR_NOT_READY' }));
          return;
        }
        const origin = req.getHeader('origin');
        const topics = parseTopics(req.getQuery('topics') ?? '');
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        if (this.opts.allowedOrigins.length > 0 && !this.opts.allowedOrigins.includes(origin)) {
          res.writeStatus('403 Forbidden').end(
            JSON.stringify({
              detail: `Origin ${JSON.stringify(origin)} is not allowed (WS_ALLOWED_ORIGINS)`,
              code: 'DL_ERR_ORIGIN_NOT_ALLOWED' satisfies ErrorCode,
            }),
          );
          return;
        }
        if (typeof topics === 'string') {
          res.writeStatus('400 Bad Request').end(JSON.stringify({ detail: topics, code: 'DL_ERR_BAD_INPUT' satisfies ErrorCode }));
          return;
        }
        res.upgrade<Peer>({ topics: new Set(topics) }, key, protocol, extensions, context);
      },
      open: (ws) => {
        this.sockets.add(ws);
        this.opts.onClients(this.sockets.size);
        this.greet(ws);
      },
      message: (ws, message) => {
        let parsed: z.infer<typeof clientMessage>;
        try {
          parsed = clientMessage.parse(JSON.parse(Buffer.from(message).toString('utf8')));
        } catch {
          ws.send(
            envelope('error', {
              detail: `expected {"type": "subscribe"|"unsubscribe", "topics": [${TOPICS.map((t) => `"${t}"`).join(', ')}]}`,
              code: 'DL_ERR_BAD_INPUT' satisfies ErrorCode,
            }),
          );
          return;
        }
        const peer = ws.getUserData();
        for (const t of parsed.topics) {
          if (parsed.type === 'subscribe' && !peer.topics.has(t)) {
            peer.topics.add(t);
            ws.subscribe(t);
          } else if (parsed.type === 'unsubscribe' && peer.topics.has(t)) {
            peer.topics.delete(t);
            ws.unsubscribe(t);
          }
        }
        ws.send(envelope('subscribed', { topics: [...peer.topics] }));
      },
      close: (ws) => {
        ws.getUserData().closed = true;
        this.sockets.delete(ws);
        this.opts.onClients(this.sockets.size);
      },
    });
  }

  /** Whether any client is subscribed to the topic. */
  has(topic: Topic): boolean {
    return this.app !== undefined && this.app.numSubscribers(topic) > 0;
  }

  publish(topic: Topic, data: unknown): void {
    if (this.app === undefined || this.app.numSubscribers(topic) === 0) return;
    this.app.publish(topic, envelope(topic, data));
  }

  /** Sends the hello, then subscribes the client: nothing is pushed to it before its hello. */
  private greet(ws: WebSocket<Peer>): void {
    const peer = ws.getUserData();
    const send = (hello: unknown): void => {
      if (peer.closed === true) return;
      ws.send(envelope('hello', { ...(hello as object), topics: [...peer.topics] }));
      for (const t of peer.topics) ws.subscribe(t);
    };
    const hello = this.opts.hello([...peer.topics]);
    if (hello instanceof Promise) hello.then(send).catch((err: unknown) => this.opts.log.warn({ err }, 'could not send a WebSocket hello'));
    else send(hello);
  }

  /** Ends every connection with 1001 (going away), as on shutdown. */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const ws of [...this.sockets]) {
      try {
        ws.end(code, reason);
      } catch {
        // already closed
      }
    }
  }
}

export interface RecentRow {
  request_id: string;
  row: number;
  id: number | null;
  ts: number;
  probability: number;
  prediction: string;
  risk_level: string;
  features: number[];
}

/**
 * What a row of the predictions feed looks like, whether it comes from a batch as it passes or
 * from the prediction log (the rows a client is sent on connect): one builder for both, so the
 * dashboard's table reads the same before and after live traffic.
 */
export class FeedRows {
  constructor(private readonly card: Pick<ModelCard, 'labels' | 'decision_threshold' | 'risk_levels'>) {}

  /** The newest `max` rows of a batch, oldest first. */
  readonly fromBatch = (b: Batch, requestId: string, max: number): RecentRow[] => {
    const out: RecentRow[] = [];
    const p = b.results?.probabilities;
    if (p === undefined) return out;
    const now = Date.now();
    for (let r = Math.max(0, b.rows - max); r < b.rows; r++) {
      const probability = p[r]!;
      const features = b.features.subarray(r * b.nFeatures, (r + 1) * b.nFeatures);
      out.push(
        this.row(
          requestId,
          b.rowIndex[r]!,
          b.logIds === undefined ? null : b.logIds.first + r,
          now,
          probability,
          decision(this.card, probability),
          riskLevel(this.card, probability),
          features,
        ),
      );
    }
    return out;
  };

  /**
   * The newest `max` rows of a batch committed to a shared log (any replica's), oldest first,
   * with the decision and risk level of the thresholds it was logged with.
   */
  readonly fromCommitted = (b: DecodedBatch, max: number): RecentRow[] => {
    const out: RecentRow[] = [];
    for (let r = Math.max(0, b.rows - max); r < b.rows; r++) {
      const p = b.probabilities[r]!;
      const features = b.features.subarray(r * b.nFeatures, (r + 1) * b.nFeatures);
      out.push(this.row(b.requestId, b.rowIndex[r]!, b.first + r, b.ts, p, decision(b.rules, p), riskLevel(b.rules, p), features));
    }
    return out;
  };

  /**
   * Logged rows (newest first, as the log reads them) as feed rows, oldest first. The decision
   * and risk level are the ones logged, taken with the thresholds of their time.
   */
  fromLog(rows: readonly LoggedRow[]): RecentRow[] {
    const out: RecentRow[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i]!;
      out.push(this.row(r.request_id, r.row, r.id, r.ts, r.probability, r.prediction, r.risk_level, r.features));
    }
    return out;
  }

  private row(
    requestId: string,
    row: number,
    id: number | null,
    ts: number,
    probability: number,
    d: number,
    risk: string,
    features: ArrayLike<number>,
  ): RecentRow {
    return {
      request_id: requestId,
      row,
      id,
      ts,
      probability: roundProbability(probability),
      prediction: decisionLabel(this.card, d),
      risk_level: risk,
      features: Array.from(features),
    };
  }
}

/**
 * Rows per `predictions` message at most: the dashboard's table of the last 100. Fewer would
 * leave it half empty after an upload that is predicted within one interval; more would cost
 * every client bandwidth for rows nobody reads.
 */
export const FEED_ROWS = 100;

/**
 * Collects predicted rows as batches pass and publishes the newest on `predictions` at most
 * every intervalMs (10 messages/s by default), so a flood of rows costs a bounded message rate.
 */
export class PredictionFeed {
  private pending: RecentRow[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: LiveHub,
    intervalMs = 100,
    private readonly maxPerMessage = FEED_ROWS,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** `rows(max)`: a batch's newest `max` rows, oldest first (FeedRows builds them). */
  add(rows: (max: number) => RecentRow[]): void {
    // Rows are only built for someone to read them.
    if (!this.hub.has('predictions')) return;
    this.pending.push(...rows(this.maxPerMessage));
    if (this.pending.length > this.maxPerMessage) this.pending = this.pending.slice(-this.maxPerMessage);
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.hub.publish('predictions', { rows, sent_at: Date.now() });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
