// Upload: choose or drop a CSV, stream it to /predict with progress, list rejected rows, preview
// the scored rows and offer them as a CSV download (the uploaded columns + the predictions).
import { bus, perFrame } from '../bus.js';
import { csvCell, csvLine, parseCsv } from '../csv.js';
import { compact, int, pct } from '../format.js';
import { Results, uploadCsv } from '../upload.js';

const PREVIEW_BYTES = 256 * 1024;
const PREVIEW_ROWS = 10;
const SHOWN_ERRORS = 50;
// Joining the download re-reads the whole file in the tab; above this it offers the results
// alone (row number + prediction), which stays small whatever the upload.
const JOIN_MAX_BYTES = 64 * 1024 * 1024;
const RESULT_COLUMNS = ['probability', 'prediction', 'risk_level', 'error'];

export function uploader() {
  let file = null;
  let job = null;
  let results = null;
  let header = [];
  let sample = [];
  let known = new Map();
  let downloadUrl = null;

  return {
    stage: 'idle',
    dragging: false,
    fileName: '',
    fileSize: '',
    columns: [],
    missing: '',
    sentPct: 0,
    sentText: '',
    scoredText: '0',
    rejectedText: '0',
    message: '',
    summaryText: '',
    errors: [],
    moreErrors: '',
    previewHeader: [],
    previewRows: [],
    downloadNote: '',
    // A plain property, not a getter over `results`: Alpine only tracks reactive reads.
    canDownload: false,

    init() {
      bus.on('card', (c) => {
        known = new Map();
        for (const f of c.features ?? []) for (const n of [f.name, ...(f.aliases ?? [])]) known.set(n, f.name);
        if (c.target !== undefined) for (const n of [c.target.name, ...(c.target.aliases ?? [])]) known.set(n, 'label');
      });
      this.refresh = perFrame(() => this.show());
    },

    get busy() {
      return this.stage === 'uploading';
    },
    get finished() {
      return this.stage === 'done' || this.stage === 'failed';
    },
    get stageCls() {
      return `stage-${this.stage}`;
    },
    get hasErrors() {
      return this.errors.length > 0;
    },
    get hasPreview() {
      return this.previewRows.length > 0;
    },
    get dropCls() {
      return `dropzone${this.dragging ? ' dragging' : ''}${this.busy ? ' busy' : ''}`;
    },

    pick(ev) {
      const f = ev.target.files?.[0];
      if (f) this.begin(f);
      ev.target.value = '';
    },
    dragOver() {
      this.dragging = true;
    },
    dragLeave() {
      this.dragging = false;
    },
    drop(ev) {
      this.dragging = false;
      const f = ev.dataTransfer?.files?.[0];
      if (f) this.begin(f);
    },
    browse() {
      this.$refs.file.click();
    },

    async begin(f) {
      if (this.busy) return;
      file = f;
      results = new Results();
      if (downloadUrl !== null) URL.revokeObjectURL(downloadUrl);
      downloadUrl = null;
      Object.assign(this, {
        fileName: f.name,
        fileSize: `${compact(f.size)} bytes`,
        stage: 'uploading',
        canDownload: false,
        sentPct: 0,
        sentText: '',
        message: '',
        summaryText: '',
        errors: [],
        moreErrors: '',
        downloadNote: '',
      });
      await this.readHeader(f);
      this.show();
      job = uploadCsv(f, {
        onProgress: ({ sent, total }) => {
          this.sentPct = total > 0 ? Math.round((sent / total) * 100) : 0;
          this.sentText = `${pct(total > 0 ? sent / total : 0)} sent`;
        },
        onLines: (lines) => {
          for (const l of lines) results.add(l);
          this.refresh();
        },
      });
      const r = await job.done;
      job = null;
      this.show();
      this.canDownload = results.scored + results.rejected > 0;
      if (r.failure !== null) {
        this.stage = 'failed';
        this.message = r.failure.code === 'aborted' ? 'Cancelled.' : `Failed: ${r.failure.detail}`;
      } else {
        this.stage = 'done';
        const s = r.summary ?? {};
        this.message = `${int(s.n_rows ?? results.scored)} rows scored, ${int(s.n_rejected ?? results.rejected)} rejected`;
        this.summaryText = typeof s.took_ms === 'number' ? `in ${int(s.took_ms)} ms` : '';
      }
    },

    async readHeader(f) {
      const whole = f.size <= PREVIEW_BYTES;
      const text = await f.slice(0, PREVIEW_BYTES).text();
      const recs = parseCsv(text, { complete: whole, limit: PREVIEW_ROWS + 1 });
      header = (recs[0] ?? []).map((c) => c.trim());
      sample = recs.slice(1);
      const found = new Set();
      this.columns = header.map((name, i) => {
        const role = known.get(name);
        if (role !== undefined) found.add(role);
        return {
          key: `${i}`,
          name,
          cls: role === undefined ? 'col ignored' : 'col used',
          role: role === undefined ? 'ignored' : role === 'label' ? 'label' : 'model input',
        };
      });
      const features = [...new Set([...known.values()].filter((v) => v !== 'label'))];
      const missing = features.filter((n) => !found.has(n));
      this.missing = missing.length === 0 ? '' : `Missing model columns: ${missing.join(', ')}`;
    },

    show() {
      if (results === null) return;
      this.scoredText = int(results.scored);
      this.rejectedText = int(results.rejected);
      const errs = [...results.errors.entries()].slice(0, SHOWN_ERRORS);
      this.errors = errs.map(([row, e]) => ({ key: `${row}`, row: `${row}`, column: e.column ?? '(row)', message: e.message }));
      this.moreErrors = results.rejected > errs.length ? `and ${int(results.rejected - errs.length)} more (all in the download)` : '';
      this.previewHeader = [...header, ...RESULT_COLUMNS.slice(0, 3)].map((name, i) => ({ key: `${i}`, name }));
      this.previewRows = sample.map((cells, row) => {
        const [p, label, risk, err] = results.cells(row);
        const extra = err !== '' ? ['rejected', err, ''] : [p === '' ? '…' : Number(p).toFixed(4), label, risk];
        return { key: `${row}`, cls: err !== '' ? 'rejected' : '', cells: [...cells, ...extra].map((text, i) => ({ key: `${i}`, text })) };
      });
    },

    cancel() {
      job?.abort();
    },

    async download() {
      if (!this.canDownload) return;
      if (downloadUrl === null) {
        const { blob, note } = await buildDownload(file, header, results);
        downloadUrl = URL.createObjectURL(blob);
        this.downloadNote = note;
      }
      const a = document.createElement('a');
      a.href = downloadUrl;
      a.download = `${file.name.replace(/\.csv$/i, '')}-scored.csv`;
      a.click();
    },
  };
}

/** The scored CSV: every uploaded column plus the results, or the results alone when the join is unsafe. */
async function buildDownload(file, header, results) {
  const total = results.scored + results.rejected;
  if (file.size <= JOIN_MAX_BYTES) {
    const recs = parseCsv(await file.text());
    if (recs.length - 1 === total) {
      const parts = [csvLine([...header, ...RESULT_COLUMNS])];
      for (let r = 1; r < recs.length; r++) {
        const [p, label, risk, err] = results.cells(r - 1);
        parts.push(
          `${recs[r].map((c) => csvCell(c)).join(',')},${p},${csvCell(label)},${csvCell(risk)},${csvCell(err, { guard: true })}\r\n`,
        );
      }
      return { blob: new Blob(parts, { type: 'text/csv' }), note: '' };
    }
  }
  const parts = [csvLine(['row', ...RESULT_COLUMNS])];
  for (let r = 0; r < results.size; r++) {
    const [p, label, risk, err] = results.cells(r);
    parts.push(`${r},${p},${csvCell(label)},${csvCell(risk)},${csvCell(err, { guard: true })}\r\n`);
  }
  const why = file.size > JOIN_MAX_BYTES ? 'the file is large' : 'its rows could not be matched one to one';
  return { blob: new Blob(parts, { type: 'text/csv' }), note: `The download holds the results by row number only (${why}).` };
}
