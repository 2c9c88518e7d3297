import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { DriftlineError, toDriftlineError } from '../../errors.js';
import {
  BUFFERED_INPUTS,
  failureTrailer,
  runPipeline,
  scoreBuffer,
  type Batch,
  type InputFormat,
  type OutputFormat,
} from '../../pipeline/index.js';
import {
  RequestBody,
  ResponseSink,
  endAfterLinger,
  exchange,
  headersOf,
  readDeclaredBody,
  send,
  sendError,
  type Exchange,
} from '../http.js';
import { admitUpload } from '../admission.js';
import { multipartFile } from '../multipart.js';
import { OUTPUT_TYPES, bodyKind, negotiate } from '../negotiate.js';
import type { ServiceState } from '../state.js';

const HEADERS = ['content-type', 'accept', 'authorization', 'content-length'] as const;

/** Lets leak tests watch each upload's objects get collected (WeakRef/FinalizationRegistry). */
export const uploadObserver: { created?: (objects: object[]) => void } = {};

/**
 * POST /predict: the upload streams through the pipeline and the results stream back as they
 * are computed. Nothing is buffered whole: the body is paused while the pipeline is full, and
 * the response is written with uWS backpressure.
 */
export function predictRoute(s: ServiceState): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const t0 = performance.now();
    const ex = exchange(res);
    const h = headersOf(req, HEADERS);
    const finish = s.track('/predict', 'POST', t0);
    // Refused before a byte of the body was read: sendError drains the body first (see
    // answerBeforeBody), so the answer is not lost to a connection reset.
    const refuse = (err: unknown, extra: { headers?: [string, string][] } = {}): void => {
      finish(sendError(ex, err, extra));
    };

    if (!s.ready())
      return refuse(new DriftlineError('DL_ERR_NOT_READY', 'The service is starting or shutting down'), {
        headers: [['retry-after', '1']],
      });
    const denied = s.authorize(h.authorization ?? '');
    if (denied !== undefined) return refuse(denied, { headers: [['www-authenticate', 'Bearer']] });
    let output: OutputFormat;
    let kind: ReturnType<typeof bodyKind>;
    try {
      output = negotiate(h.accept ?? '');
      kind = bodyKind(h['content-type'] ?? '');
    } catch (err) {
      return refuse(err);
    }
    const declared = Number(h['content-length'] || Number.NaN);
    if (declared > s.config.MAX_UPLOAD_BYTES) {
      return refuse(
        new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The body is larger than ${s.config.MAX_UPLOAD_BYTES} bytes (MAX_UPLOAD_BYTES)`),
      );
    }
    // A small body of known length is read whole and scored without streams (same answer).
    const small =
      Number.isInteger(declared) &&
      declared <= Math.min(SMALL_BODY_BYTES, s.config.MAX_FIELD_BYTES) &&
      (kind.kind === 'multipart' || BUFFERED_INPUTS.has(kind.format));
    admitUpload(s, ex, finish, () => {
      if (small) {
        uploadObserver.created?.([ex]);
        return handleSmall(s, ex, declared, h['content-type'] ?? '', kind, output);
      }
      const body = new RequestBody(ex, { maxBytes: s.config.MAX_UPLOAD_BYTES, idleMs: s.config.REQUEST_IDLE_TIMEOUT_MS });
      uploadObserver.created?.([ex, body]);
      return handle(s, ex, body, h['content-type'] ?? '', kind, output);
    });
  };
}

/**
 * What this service gives either way of scoring an upload (the buffered path, the stream
 * pipeline): one place, so the two cannot drift apart.
 */
function scoring(s: ServiceState, requestId: string, t0: number, ignoredParts: () => number) {
  return {
    card: s.card,
    predictor: s.scheduler,
    requestId,
    log: s.store,
    window: s.sketch,
    limits: { maxFieldBytes: s.config.MAX_FIELD_BYTES, maxColumns: s.config.MAX_COLUMNS, maxRows: s.config.MAX_ROWS_PER_REQUEST },
    summaryExtra: (): Record<string, unknown> => ({
      took_ms: Math.round((performance.now() - t0) * 10) / 10,
      ...(ignoredParts() > 0 ? { ignored_file_parts: ignoredParts() } : {}),
    }),
    onBatch: (b: Batch) => s.onBatch(b, requestId),
  };
}

const streamBatch = (s: ServiceState) => ({ maxRows: s.config.BATCH_MAX_ROWS, maxWaitMs: s.config.BATCH_MAX_WAIT_MS });

/**
 * Bodies up to this size with a Content-Length take the buffered path: bench/sections/small.ts
 * measured the stream pipeline's fixed cost (ten object-mode streams per request) as most of a
 * five-row request's time.
 */
const SMALL_BODY_BYTES = 64 * 1024;

async function handleSmall(
  s: ServiceState,
  ex: Exchange,
  length: number,
  contentType: string,
  kind: ReturnType<typeof bodyKind>,
  output: OutputFormat,
): Promise<number> {
  const requestId = randomUUID();
  const t0 = performance.now();
  let received = false;
  try {
    let body = await readDeclaredBody(ex, length, s.config.REQUEST_IDLE_TIMEOUT_MS);
    received = true;
    let input: InputFormat = kind.kind === 'raw' ? kind.format : 'csv';
    let ignored = 0;
    if (kind.kind === 'multipart') {
      const part = await multipartFile(Readable.from([body]), contentType, { maxFileBytes: s.config.MAX_UPLOAD_BYTES });
      const chunks: Buffer[] = [];
      for await (const c of part.stream) chunks.push(c as Buffer);
      body = Buffer.concat(chunks);
      input = part.format;
      ignored = part.ignored();
    }
    const headers: [string, string][] = [
      ['content-type', OUTPUT_TYPES[output]],
      ['x-request-id', requestId],
      ['cache-control', 'no-store'],
    ];
    const common = { ...scoring(s, requestId, t0, () => ignored), input, output };
    if (!BUFFERED_INPUTS.has(input)) {
      // A JSON file part: its parser is a stream; the bytes are here, so stream them.
      const sink = new ResponseSink(ex, () => ({ status: 200, headers }));
      await runPipeline({ ...common, source: Readable.from([body]), sink, batch: streamBatch(s) });
      return 200;
    }
    const r = await scoreBuffer({ ...common, body, batchRows: s.config.BATCH_MAX_ROWS });
    send(ex, 200, r.body, headers);
    return 200;
  } catch (err) {
    return fail(s, ex, toDriftlineError(err), output, requestId, () => received);
  }
}

/** An upload failed: a 4xx/5xx if nothing was sent yet, else an in-band error where there is room. */
function fail(s: ServiceState, ex: Exchange, e: DriftlineError, output: OutputFormat, requestId: string, done: () => boolean): number {
  if (ex.aborted) return 499;
  if (!ex.started) return sendError(ex, e);
  // Headers are out: say what went wrong in the body if the format has room, else cut it.
  const trailer = failureTrailer(output, e);
  if (trailer === undefined) ex.res.cork(() => ex.res.close());
  else {
    ex.res.cork(() => ex.res.write(trailer));
    if (done()) ex.res.cork(() => ex.res.end());
    else endAfterLinger(ex);
  }
  s.log.warn({ err: e, requestId }, 'upload failed after the response started');
  return e.status;
}

async function handle(
  s: ServiceState,
  ex: Exchange,
  body: RequestBody,
  contentType: string,
  kind: ReturnType<typeof bodyKind>,
  output: OutputFormat,
): Promise<number> {
  const requestId = randomUUID();
  const ac = new AbortController();
  ex.onAbort.push(() => ac.abort());
  let source: Readable = body;
  let input: InputFormat = kind.kind === 'raw' ? kind.format : 'csv';
  let ignoredParts = (): number => 0;
  const done = (): boolean => body.readableEnded;
  try {
    if (kind.kind === 'multipart') {
      const part = await multipartFile(body, contentType, { maxFileBytes: s.config.MAX_UPLOAD_BYTES });
      source = part.stream;
      input = part.format;
      ignoredParts = part.ignored;
    }
    const sink = new ResponseSink(ex, () => ({
      status: 200,
      headers: [
        ['content-type', OUTPUT_TYPES[output]],
        ['x-request-id', requestId],
        ['cache-control', 'no-store'],
      ],
    }));
    const t0 = performance.now();
    await runPipeline({
      ...scoring(s, requestId, t0, ignoredParts),
      source,
      input,
      output,
      sink,
      batch: streamBatch(s),
      signal: ac.signal,
    });
    return 200;
  } catch (err) {
    return fail(s, ex, toDriftlineError(err), output, requestId, done);
  } finally {
    // A multipart body outlives a failed pipeline (the pipeline read the file part, not the
    // body); destroying it stops its idle timer and drops what it still buffers.
    if (!body.destroyed) body.destroy();
  }
}
