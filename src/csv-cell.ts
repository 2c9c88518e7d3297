// The one CSV cell writer: every CSV the service writes (the /predict response, the prediction
// export, the traffic generator's files) quotes and neutralises cells here, so the rule cannot
// differ between them.

const NEEDS_QUOTES = /[",\r\n]/;

// Spreadsheet programs run a cell that begins with one of these as a formula (OWASP "CSV
// injection"): such text gets a leading ' so it stays text.
const EQUALS = 61;
const PLUS = 43;
const MINUS = 45;
const AT = 64;
const TAB = 9;
const CR = 13;

// A plain number is read as a number, not a formula, even with a sign: "-2" stays -2, so a
// negative value in a passed-through column keeps its value. "-2+3" is no plain number.
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether text beginning with this character (code unit or byte) may be read as a formula. */
export const formulaStart = (c: number): boolean => c === EQUALS || c === PLUS || c === MINUS || c === AT || c === TAB || c === CR;

/** Whether a spreadsheet would read this text as a formula. */
export function looksLikeFormula(s: string): boolean {
  return formulaStart(s.charCodeAt(0)) && !PLAIN_NUMBER.test(s);
}

/**
 * One CSV cell: text that would run as a formula is prefixed with ', then the cell is quoted if
 * it holds a quote, comma or line break. Numbers and booleans are written as JSON writes them,
 * null and undefined as an empty cell, anything else as its JSON.
 */
export function csvCell(v: unknown): string {
  const s =
    typeof v === 'string'
      ? v
      : v === undefined || v === null
        ? ''
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : JSON.stringify(v);
  const safe = looksLikeFormula(s) ? `'${s}` : s;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
