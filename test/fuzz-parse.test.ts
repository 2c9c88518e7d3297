// Random bytes into each parse stage (and the UTF-8 check in front of them): whatever arrives,
// a stage either ends with well-formed output or fails through its stream with a typed 4xx
// DriftlineError. Never a plain Error, a 5xx, a throw that escapes, or row numbers with gaps.
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DriftlineError, ERROR_CODES } from '../src/errors.js';
import { SNIFF_BYTES, createRequireUtf8, notUtf8 } from '../src/stages/encoding.js';
import { createParseCsv } from '../src/stages/parse-csv.js';
import { createParseJson } from '../src/stages/parse-json.js';
import { createParseNdjson } from '../src/stages/parse-ndjson.js';
import { isRowError, type Parsed } from '../src/stages/types.js';
import { chunked } from './helpers/fixtures.js';

const RUNS = 300;
// Small limits, so that random input reaches them.
const LIMITS = { field: 64, columns: 6 };

const stages = {
  csv: () => createParseCsv({ maxRowBytes: LIMITS.field, maxColumns: LIMITS.columns }),
  // Tokenizer writes of 16 bytes: most bodies span many, so tokens and limits straddle them.
  json: () => createParseJson({ maxFieldBytes: LIMITS.field, maxColumns: LIMITS.columns, maxDepth: 8, blockBytes: 16 }),
  ndjson: () => createParseNdjson({ maxLineBytes: LIMITS.field, maxColumns: LIMITS.columns }),
};

// Bytes that mean something to one of the grammars, plus a few that are not UTF-8.
const SIGNIFICANT = [
  ...Buffer.from(',"\n\r\t {}[]:-+.e0123456789abcnulltruefalse\\'),
  0x00,
  0xef,
  0xbb,
  0xbf,
  0xff,
  0xfe,
  0xc3,
  0xa9,
  0xe2,
  0x82,
  0xac,
];
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.array(fc.constantFrom(...SIGNIFICANT), { maxLength: 400 }).map((a) => Uint8Array.from(a)),
  // Mostly well-formed: random text in each grammar's shape, so parsing gets past the first byte.
  fc
    .array(fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String)), { maxLength: 8 }), { maxLength: 12 })
    .map((rows) => Buffer.from(rows.map((r) => r.join(',')).join('\n'))),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 8 }).map((vs) => Buffer.from(vs.map((v) => JSON.stringify(v)).join('\n'))),
);
const cutsOf = (n: number) => fc.array(fc.integer({ min: 0, max: Math.max(0, n) }), { maxLength: 12 });
const input = bytes.chain((b) => cutsOf(b.length).map((cuts) => ({ buf: Buffer.from(b), cuts })));

/** Runs a stage to its end; the rows it emitted, or the error its stream failed with. */
async function run(stage: Transform, source: Readable): Promise<{ out: Parsed[]; err?: unknown }> {
  const out: Parsed[] = [];
  try {
    await pipeline(source, stage, async (src: AsyncIterable<unknown>) => {
      for await (const rec of src) out.push(rec as Parsed);
    });
    return { out };
  } catch (err) {
    return { out, err };
  }
}

function checkError(err: unknown): string | undefined {
  if (!(err instanceof DriftlineError)) return `not a DriftlineError: ${String(err)}`;
  if (!(err.code in ERROR_CODES)) return `unknown code ${err.code}`;
  if (err.status < 400 || err.status >= 500) return `${err.code} is a ${err.status}, not a client error`;
  return undefined;
}

/** One header at most, before any parsed row; row numbers from 0, consecutive, each once. */
function checkRows(out: Parsed[]): string | undefined {
  let header = 0;
  let next = 0;
  for (const rec of out) {
    if (rec.kind === 'header') {
      header++;
      continue;
    }
    if (rec.first !== next) return `a chunk starts at row ${rec.first}, expected ${next}`;
    for (const [i, r] of rec.rows.entries()) {
      if (isRowError(r)) {
        if (r.index !== rec.first + i) return `error row ${r.index} sits at position ${rec.first + i}`;
      } else if (header === 0) return `row ${rec.first + i} came before the header`;
    }
    next += rec.rows.length;
  }
  return header > 1 ? `${header} headers` : undefined;
}

for (const [format, make] of Object.entries(stages)) {
  t.test(`parse ${format}: random bytes, cut anywhere, end in rows or a typed 4xx`, async (t) => {
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(input, async ({ buf, cuts }) => {
        const { out, err } = await run(make(), chunked(buf, cuts));
        if (err !== undefined) {
          failed++;
          const problem = checkError(err);
          if (problem !== undefined) throw new Error(problem);
        }
        const problem = checkRows(out);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: RUNS },
    );
    t.ok(failed > 0 && failed < RUNS, `both outcomes were exercised (${failed} of ${RUNS} runs failed, typed)`);
  });

  t.test(`parse ${format}: where the chunks are cut does not change the result`, async () => {
    await fc.assert(
      fc.asyncProperty(input, async ({ buf, cuts }) => {
        const whole = await run(make(), chunked(buf, []));
        const pieces = await run(make(), chunked(buf, cuts));
        const codeOf = (e: unknown) => (e as DriftlineError | undefined)?.code;
        if (codeOf(whole.err) !== codeOf(pieces.err)) throw new Error(`${codeOf(whole.err)} whole, ${codeOf(pieces.err)} in pieces`);
        if (whole.err === undefined && !isDeepStrictEqual(flatten(pieces.out), flatten(whole.out))) {
          throw new Error(`whole: ${JSON.stringify(flatten(whole.out))}\nin pieces: ${JSON.stringify(flatten(pieces.out))}`);
        }
      }),
      { numRuns: RUNS / 3 },
    );
  });
}

/**
 * The header and the rows with their numbers, chunking aside: where the header falls among
 * rejected rows before it depends on the chunks, and validation takes either order.
 */
function flatten(out: Parsed[]): unknown {
  return {
    header: out.find((rec) => rec.kind === 'header'),
    rows: out.flatMap((rec): unknown[] =>
      rec.kind === 'header' ? [] : rec.rows.map((r, i) => (isRowError(r) ? r : { row: rec.first + i, cells: Object.values(r) })),
    ),
  };
}

t.test('the UTF-8 check passes a body through unchanged, or refuses it with DL_ERR_BAD_ENCODING, as notUtf8 says', async (t) => {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(input, async ({ buf, cuts }) => {
      const chunks: Buffer[] = [];
      let err: unknown;
      try {
        await pipeline(chunked(buf, cuts), createRequireUtf8(), async (src: AsyncIterable<unknown>) => {
          for await (const c of src) chunks.push(c as Buffer);
        });
      } catch (e) {
        err = e;
      }
      const verdict = notUtf8(buf.subarray(0, SNIFF_BYTES));
      if (verdict === undefined) {
        if (err !== undefined) throw new Error(`refused a body notUtf8 accepts: ${String(err)}`);
        if (!Buffer.concat(chunks).equals(buf)) throw new Error('the bytes changed on the way through');
      } else {
        refused++;
        if (!(err instanceof DriftlineError) || err.code !== 'DL_ERR_BAD_ENCODING')
          throw new Error(`expected DL_ERR_BAD_ENCODING, got ${String(err)}`);
        if (err.message !== verdict) throw new Error(`"${err.message}" whole, "${verdict}" by notUtf8`);
      }
    }),
    { numRuns: RUNS },
  );
  t.ok(refused > 0, `some bodies were refused (${refused})`);
});
