// The upload panel joins the uploaded file's records with /predict's results by row number, so
// its CSV reader (static/js/csv.js) must split a file into the same records as the server.
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { createParseCsv } from '../src/stages/parse-csv.js';
import { ROOT } from './helpers/shared.js';

interface CsvModule {
  parseCsv(text: string, opts?: { complete?: boolean; limit?: number }): string[][];
  csvCell(v: unknown, opts?: { guard?: boolean }): string;
}
// A browser module without types: imported by URL so the compiler does not look for them.
const load = async (): Promise<CsvModule> => (await import(pathToFileURL(path.join(ROOT, 'static/js/csv.js')).href)) as CsvModule;

/** The server's records: header then rows, fed in the given chunks; ragged rows as null. */
async function serverRecords(chunks: Buffer[]): Promise<(string[] | null)[]> {
  const stage = createParseCsv();
  const out: (string[] | null)[] = [];
  const reading = (async () => {
    // Read loosely: a row is `{cells}` or csv-parser's own positional record, an error `{kind: 'error'}`.
    for await (const rec of stage as AsyncIterable<{ kind: string; columns?: string[]; rows?: unknown[] }>) {
      if (rec.kind === 'header') out.push(rec.columns ?? []);
      for (const r of rec.rows ?? []) {
        const row = r as { kind?: string; cells?: unknown[] };
        out.push(row.kind === 'error' ? null : (Array.isArray(row.cells) ? row.cells : Object.values(row)).map(String));
      }
    }
  })();
  for (const c of chunks) stage.write(c);
  stage.end();
  await reading;
  return out;
}

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const c of [...at, buf.length]) {
    parts.push(buf.subarray(from, c));
    from = c;
  }
  return parts;
}

const cellText = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', ',', '"', '\n', '\r\n', '<', 'é', '='), maxLength: 8 });

t.test('static/js/csv.js reads the same records as the server', async (t) => {
  const { parseCsv, csvCell } = await load();
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }).chain((cols) =>
        fc.record({
          header: fc.array(fc.stringMatching(/^[a-z][a-z_]{0,6}$/), { minLength: cols, maxLength: cols }),
          rows: fc.array(fc.array(cellText, { minLength: cols, maxLength: cols }), { maxLength: 12 }),
          eol: fc.constantFrom('\n', '\r\n', '\r'),
          blankAfter: fc.array(fc.boolean(), { maxLength: 12 }),
          bom: fc.boolean(),
          finalEol: fc.boolean(),
          cuts: fc.array(fc.nat(), { maxLength: 4 }),
        }),
      ),
      async ({ header, rows, eol, blankAfter, bom, finalEol, cuts }) => {
        // A lone-CR file whose cells hold LFs is ambiguous to any reader; the server decides by
        // the first break, and so does the dashboard, but then embedded breaks change meaning.
        const body = rows.map((r) => r.map((c) => csvCell(eol === '\r' ? c.replace(/\n/g, ' ') : c)).join(','));
        const lines = [header.join(','), ...body.flatMap((l, i) => (blankAfter[i] === true ? [l, ''] : [l]))];
        const text = `${bom ? '\uFEFF' : ''}${lines.join(eol)}${finalEol ? eol : ''}`;
        const server = await serverRecords(split(Buffer.from(text), cuts));
        const mine = parseCsv(text);
        if (mine.length > 0) mine[0] = mine[0]!.map((c) => c.trim());
        // fast-check shrinks a mismatch to a small file and reports it.
        return isDeepStrictEqual(mine, server);
      },
    ),
    { numRuns: 300, seed: 20251126 },
  );
  t.pass('300 generated files (quotes, embedded breaks, LF/CRLF/CR, blank lines, BOM, chunk cuts) read alike');
});

t.test('a preview of a cut-off prefix drops the partial last record', async (t) => {
  const { parseCsv } = await load();
  t.same(parseCsv('a,b\n1,2\n3,"x\ny', { complete: false }), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  t.same(parseCsv('a,b\n1,2\n3,4', { complete: true }), [
    ['a', 'b'],
    ['1', '2'],
    ['3', '4'],
  ]);
  t.same(parseCsv('a,b\n1,2\n3,4\n5,6\n', { limit: 2 }), [
    ['a', 'b'],
    ['1', '2'],
  ]);
});

t.test('error texts added to a download cannot run as spreadsheet formulas', async (t) => {
  const { csvCell } = await load();
  t.equal(csvCell('=HYPERLINK("x")', { guard: true }), `"'=HYPERLINK(""x"")"`);
  t.equal(csvCell('+1', { guard: true }), "'+1");
  t.equal(csvCell('-2'), '-2', 'uploaded cells are written back as they were');
  t.equal(csvCell('a,b'), '"a,b"');
});
