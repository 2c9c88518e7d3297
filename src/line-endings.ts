const CR = 13;
const LF = 10;

/**
 * csv-parser splits lines on LF only (and drops the CR of a CRLF). Files from old Mac tools end
 * lines with a lone CR, and files pasted together from several tools mix all three endings;
 * deciding once from the first line break merged every later row that ended differently into
 * one. So every CR that is not followed by LF becomes LF, wherever it is: LF, CRLF and CR all
 * end a line, in any mix. A lone CR inside a quoted cell becomes LF too — the cell keeps its
 * line break, just not the byte — which we accept rather than track quotes byte by byte here.
 *
 * Cost: one native `indexOf(CR)` per chunk on LF files (no copy), one per line on CRLF files;
 * a chunk is copied only when it holds a lone CR.
 */
export class LoneCrNormalizer {
  /** A CR that ended a chunk before we could tell whether an LF follows it. */
  private heldCr = false;

  push(input: Buffer): Buffer {
    let chunk = input;
    if (this.heldCr) {
      this.heldCr = false;
      if (input.length === 0) {
        this.heldCr = true;
        return input;
      }
      // The held CR is a line break either way: as CRLF (LF follows) or as a lone CR.
      chunk = Buffer.concat([Buffer.of(input[0] === LF ? CR : LF), input]);
    }
    let out: Buffer | undefined;
    for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
      if (i === chunk.length - 1) {
        this.heldCr = true;
        return (out ?? chunk).subarray(0, i);
      }
      if (chunk[i + 1] === LF) continue;
      out ??= chunk === input ? Buffer.from(input) : chunk;
      out[i] = LF;
    }
    return out ?? chunk;
  }

  /** Bytes still held back at the end of input. */
  end(): Buffer {
    if (!this.heldCr) return Buffer.alloc(0);
    this.heldCr = false;
    // A final lone CR with nothing after it is a line break either way.
    return Buffer.of(LF);
  }
}
