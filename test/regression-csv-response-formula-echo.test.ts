// Regression: a CSV response (Accept: text/csv) echoed passed-through cells such as
// =HYPERLINK(...) verbatim, while the CSV export neutralised the same text: a spreadsheet
// opening the response ran the formula. Both now write cells with one function.
import t from 'tap';
import { csvCell, looksLikeFormula } from '../src/csv-cell.js';
import { FEATURE_HEADER, VALID_ROW, parseCsvText, send } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';

const HOSTILE = ['=HYPERLINK("http://x","click")', '@SUM(A1)', '+cmd|calc', '-2+3', '\t=1+1'];
const PLAIN = ['-5', '+1.5', '3e2', 'note, with comma', ''];

t.test('csvCell: formulas get a leading quote mark, numbers and ordinary text stay as they are', async (t) => {
  for (const v of HOSTILE) t.ok(looksLikeFormula(v), `${JSON.stringify(v)} reads as a formula`);
  for (const v of PLAIN) t.notOk(looksLikeFormula(v), `${JSON.stringify(v)} does not`);
  t.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  t.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  t.equal(csvCell('-5'), '-5');
  t.equal(csvCell(-5), '-5');
  t.equal(csvCell(null), '');
  t.equal(csvCell('a,b'), '"a,b"');
});

t.test('POST /predict with Accept: text/csv neutralises passed-through cells as the export does', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  // Each hostile value is sent raw (RFC 4180-quoted where needed), as `id` and as `note`.
  const raw = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [`id,${FEATURE_HEADER},note`, ...HOSTILE.map((v) => `${raw(v)},${VALID_ROW},${raw(v)}`), `7,${VALID_ROW},-5`];
  const body = `${lines.join('\n')}\n`;
  // Past 64 KiB a body takes the streamed path: the same rows, then plain ones.
  const large = body + `7,${VALID_ROW},-5\n`.repeat(2500);
  t.ok(large.length > 64 * 1024);
  for (const [how, text] of [
    ['buffered', body],
    ['streamed', large],
  ] as const) {
    const r = await send(srv, { headers: { 'content-type': 'text/csv', accept: 'text/csv' }, body: text });
    t.equal(r.status, 200);
    const rows = parseCsvText(r.body.toString());
    t.same(rows[0]!.slice(0, 1), ['id']);
    const note = rows[0]!.indexOf('note');
    for (let i = 0; i < HOSTILE.length; i++) {
      t.equal(rows[i + 1]![0], `'${HOSTILE[i]}`, `${how}: id ${JSON.stringify(HOSTILE[i])} stays text`);
      t.equal(rows[i + 1]![note], `'${HOSTILE[i]}`, `${how}: note ${JSON.stringify(HOSTILE[i])} stays text`);
    }
    t.same([rows[HOSTILE.length + 1]![0], rows[HOSTILE.length + 1]![note]], ['7', '-5'], 'numbers are echoed as numbers');
    t.equal(rows[1]![1], VALID_ROW.split(',')[0], 'feature cells are echoed as sent');
    if (how === 'streamed') break;
    // The export writes the same `id` (its ext_id) with the same function: the same text.
    const exported = parseCsvText(await (await fetch(`${srv.url}/api/predictions?limit=${HOSTILE.length + 1}&format=csv`)).text());
    const extId = exported[0]!.indexOf('ext_id');
    t.same(
      exported
        .slice(1)
        .map((e) => e[extId])
        .filter((v) => v !== '7')
        .sort(),
      HOSTILE.map((v) => `'${v}`).sort(),
      'the export neutralises the same cells the same way',
    );
  }
});
