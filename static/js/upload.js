// Sends a CSV file to POST /predict and reads the NDJSON answer as it streams back.
// XMLHttpRequest rather than fetch: only XHR reports upload progress on HTTP/1.1.

// Error details kept for display and the download; beyond this only the count grows, so a file
// of a million bad rows cannot exhaust the tab.
export const MAX_ERROR_DETAILS = 10_000;

/** Per-row results in typed arrays indexed by the server's row number (0 = first data row). */
export class Results {
  constructor() {
    this.size = 0;
    this.prob = new Float64Array(1024);
    this.label = new Int8Array(1024).fill(-1);
    this.risk = new Int8Array(1024).fill(-1);
    this.labels = [];
    this.risks = [];
    this.errors = new Map();
    this.scored = 0;
    this.rejected = 0;
  }

  grow(row) {
    if (row < this.prob.length) return;
    let cap = this.prob.length;
    while (cap <= row) cap *= 2;
    const prob = new Float64Array(cap);
    prob.set(this.prob);
    const label = new Int8Array(cap).fill(-1);
    label.set(this.label);
    const risk = new Int8Array(cap).fill(-1);
    risk.set(this.risk);
    Object.assign(this, { prob, label, risk });
  }

  static code(list, value) {
    let i = list.indexOf(value);
    if (i === -1) {
      list.push(value);
      i = list.length - 1;
    }
    return i;
  }

  add(line) {
    if (typeof line.row !== 'number' || line.row < 0) return;
    this.grow(line.row);
    this.size = Math.max(this.size, line.row + 1);
    if (line.error !== undefined) {
      this.rejected++;
      if (this.errors.size < MAX_ERROR_DETAILS)
        this.errors.set(line.row, { column: line.error.column ?? null, message: String(line.error.message ?? '') });
      return;
    }
    this.scored++;
    this.prob[line.row] = line.probability;
    this.label[line.row] = Results.code(this.labels, String(line.prediction));
    this.risk[line.row] = Results.code(this.risks, String(line.risk_level));
  }

  /** [probability, prediction, risk_level, error] for one row, as text. */
  cells(row) {
    if (row < this.size && this.label[row] !== -1)
      return [String(this.prob[row]), this.labels[this.label[row]], this.risks[this.risk[row]], ''];
    const e = this.errors.get(row);
    if (e !== undefined) return ['', '', '', e.column === null ? e.message : `${e.column}: ${e.message}`];
    return ['', '', '', row < this.size ? 'rejected' : ''];
  }
}

/**
 * Uploads `file`; calls onProgress({sent, total}) while sending and onLines(lines) as result
 * lines arrive. Resolves to {status, summary, failure}; `abort()` cancels.
 */
export function uploadCsv(file, { onProgress, onLines }) {
  const xhr = new XMLHttpRequest();
  let seen = 0;
  let summary = null;
  let failure = null;

  const drain = (final) => {
    if (xhr.status !== 200) return;
    const text = xhr.responseText;
    const end = final ? text.length : text.lastIndexOf('\n') + 1;
    if (end <= seen) return;
    const chunk = text.slice(seen, end);
    seen = end;
    const lines = [];
    for (const raw of chunk.split('\n')) {
      if (raw.trim() === '') continue;
      let obj;
      try {
        obj = JSON.parse(raw);
      } catch {
        failure = { code: 'DL_UI_BAD_LINE', detail: 'The server sent a line that is not JSON' };
        continue;
      }
      if (obj.summary !== undefined) summary = obj.summary;
      else if (obj.error !== undefined && obj.row === undefined) failure = obj.error;
      else lines.push(obj);
    }
    if (lines.length > 0) onLines(lines);
  };

  const done = new Promise((resolve) => {
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.upload.onload = () => onProgress({ sent: file.size, total: file.size });
    xhr.onprogress = () => drain(false);
    xhr.onload = () => {
      if (xhr.status === 200) {
        drain(true);
        resolve({ status: 200, summary, failure });
        return;
      }
      let detail = `HTTP ${xhr.status}`;
      let code = null;
      try {
        const body = JSON.parse(xhr.responseText);
        detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail ?? body);
        code = body.code ?? null;
      } catch {
        // not JSON: keep the status line
      }
      resolve({ status: xhr.status, summary: null, failure: { code, detail } });
    };
    xhr.onerror = () =>
      resolve({ status: 0, summary, failure: { code: null, detail: 'The connection failed before the upload finished' } });
    xhr.onabort = () => resolve({ status: 0, summary, failure: { code: 'aborted', detail: 'Upload cancelled' } });
  });

  xhr.open('POST', '/predict');
  xhr.setRequestHeader('content-type', 'text/csv');
  xhr.setRequestHeader('accept', 'application/x-ndjson');
  xhr.send(file);
  return { done, abort: () => xhr.abort() };
}
