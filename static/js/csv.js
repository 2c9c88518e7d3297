// Just enough CSV for the upload panel: read the header and the first rows for a preview, and
// walk every record to join the uploaded cells with their predictions for the download. It
// reads as the server does (src/stages/parse-csv.ts: RFC 4180 quotes, a BOM, blank lines
// skipped, and a lone CR taken as a line break only when the first break of the file is one);
// the join still checks its record count against the server's and falls back if they differ.

/** Records of `text` as arrays of cells, blank lines skipped. `complete` false drops a cut-off last record. */
export function parseCsv(input, { complete = true, limit = Number.POSITIVE_INFINITY } = {}) {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const firstCr = text.indexOf('\r');
  const firstLf = text.indexOf('\n');
  if (firstCr !== -1 && (firstLf === -1 || firstCr < firstLf) && text[firstCr + 1] !== '\n') text = text.replace(/\r/g, '\n');
  const out = [];
  let row = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  const endRecord = () => {
    row.push(cell);
    cell = '';
    if (!(row.length === 1 && row[0] === '')) out.push(row);
    row = [];
  };
  while (i < n && out.length < limit) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cell += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') endRecord();
    else if (c === '\r' && text[i + 1] === '\n') {
      endRecord();
      i++;
    } else cell += c;
    i++;
  }
  if (out.length < limit && complete && (cell !== '' || row.length > 0)) endRecord();
  return out;
}

// Spreadsheets run cells that start with these as formulas; text the dashboard adds to a
// download (error messages) gets a leading ' so it stays text.
const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(v, { guard = false } = {}) {
  let s = v === null || v === undefined ? '' : String(v);
  if (guard && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells) => `${cells.map((c) => csvCell(c)).join(',')}\r\n`;
