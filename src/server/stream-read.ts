import { performance } from 'node:perf_hooks';
import { toDriftlineError } from '../errors.js';
import type { Logger } from '../log.js';
import { failureTrailer, type OutputFormat } from '../pipeline/index.js';
import { ResponseSink, type Exchange } from './http.js';

// Work one streamed read does in one turn of the event loop. A fast client takes every write
// at once (uWS reports no backpressure), so without slices a 1M-row export held the loop for
// 9-12 s. Slices of 10 ms, each read taking its own every turn, gave /health a p99 of 141 ms
// with four exports; 5 ms gave 71 ms (test/regression-export-blocks-event-loop.test.ts).
const SLICE_MS = 5;

// Streamed reads take turns: one slice of one read per turn of the event loop, round robin, so
// the loop's other work (every other request) waits for one slice however many reads stream.
// Measured on a loaded 2-core machine with four exports: each read taking a slice every turn
// left /health a p99 of 243 ms; taking turns, 148 ms (19 ms on an idle machine).
const waiting: (() => void)[] = [];
let driving = false;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!driving) {
      driving = true;
      setImmediate(drive);
    }
  });
}

function drive(): void {
  waiting.shift()?.();
  if (waiting.length > 0) setImmediate(drive);
  else driving = false;
}
// Text gathered before one write: fewer, larger writes to uWS (each is a syscall at best).
const WRITE_BYTES = 64 * 1024;

export interface StreamedRead {
  /** How a failure after the headers are out is told: an in-band error where the format has room. */
  format: OutputFormat;
  headers: readonly (readonly [string, string])[];
  /** The body, a piece at a time; reading from the store happens as it is pulled, and may throw. */
  body: Iterable<string> | AsyncIterable<string>;
  route: string;
  log: Logger;
}

/**
 * Every streamed read (exports) goes through here: the body is pulled in time slices, with a
 * turn of the event loop between slices and a wait for uWS to drain when the client reads
 * slowly, so one export never stalls other requests. A failure before the first byte is thrown
 * (the route answers with an error status); one after the headers are out ends the response
 * with the format's error trailer (NDJSON: a last `{"error": …}` line), or, where the format
 * has no room for one (CSV), cuts the connection so the client sees a truncated body, never a
 * hang. Either way it is logged with its code.
 */
export async function streamRead(ex: Exchange, r: StreamedRead): Promise<number> {
  const sink = new ResponseSink(ex, () => ({ status: 200, headers: r.headers }));
  // The client going away fails a write that waits for a drain; ex.aborted says so below.
  sink.on('error', () => undefined);
  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        sink.off('drain', done);
        sink.off('close', done);
        resolve();
      };
      sink.once('drain', done).once('close', done);
    });
  let text = '';
  let slice = performance.now();
  try {
    for await (const piece of r.body) {
      if (ex.aborted) return 499;
      // A HEAD response ends with its head, at the first write: the rest is not worth reading.
      if (ex.ended) break;
      text += piece;
      if (text.length >= WRITE_BYTES) {
        const more = sink.write(text);
        text = '';
        if (!more) await drained();
      }
      if (performance.now() - slice >= SLICE_MS) {
        await nextTurn();
        slice = performance.now();
      }
    }
    if (ex.aborted) return 499;
    await new Promise<void>((resolve) => sink.end(text, resolve));
    return 200;
  } catch (err) {
    const e = toDriftlineError(err);
    if (ex.aborted) return 499;
    if (!ex.started && sink.writableLength === 0) {
      sink.destroy();
      throw e;
    }
    r.log.error(
      { err: e, code: e.code, route: r.route },
      `${r.route}: the read failed after the response started; the response ends with the error`,
    );
    const trailer = failureTrailer(r.format, e);
    if (trailer === undefined) {
      sink.destroy();
      ex.res.cork(() => ex.res.close());
    } else {
      await new Promise<void>((resolve) => sink.end(text + trailer, resolve));
    }
    return e.status;
  }
}
