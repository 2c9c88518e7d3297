const CR = 13;
const LF = 10;

/**
 * csv-parser splits lines on LF only. Files from old Mac tools end lines with a lone CR; when
 * the first line break of the input is a lone CR, every CR is read as a line break. Inputs
 * whose first break is LF or CRLF pass through untouched (and uncopied).
 */
export class LoneCrNormalizer {
  private mode: 'unknown' | 'lf' | 'cr' = 'unknown';
  /** A CR that ended a chunk before we could tell whether an LF follows it. */
  private heldCr = false;

  push(input: Buffer): Buffer {
    if (this.mode === 'lf') return input;
    let chunk = input;
    if (this.heldCr) {
      chunk = Buffer.concat([Buffer.of(CR), input]);
      this.heldCr = false;
    }
    if (this.mode === 'unknown') {
      const cr = chunk.indexOf(CR);
      const lf = chunk.indexOf(LF);
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        if (lf !== -1) this.mode = 'lf';
        return chunk;
      }
      if (cr === chunk.length - 1) {
        this.heldCr = true;
        return chunk.subarray(0, chunk.length - 1);
      }
      this.mode = chunk[cr + 1] === LF ? 'lf' : 'cr';
      if (this.mode === 'lf') return chunk;
    }
    const out = chunk === input ? Buffer.from(input) : chunk;
    for (let i = out.indexOf(CR); i !== -1; i = out.indexOf(CR, i + 1)) out[i] = LF;
    return out;
  }

  /** Bytes still held back at the end of input. */
  end(): Buffer {
    if (!this.heldCr) return Buffer.alloc(0);
    this.heldCr = false;
    // A final lone CR with nothing after it is a line break either way.
    return Buffer.of(LF);
  }
}
