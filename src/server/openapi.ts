import { z } from 'zod';
import { ERROR_CODES, ROW_ERROR_CODES } from '../errors.js';
import { modelCardSchema, type ModelCard } from '../model/card.js';
import { rowSchema } from '../pipeline/index.js';
import { TOPICS } from './live.js';

// Response shapes as zod schemas: the OpenAPI document is generated from them (and from the
// model card's row schema), so it cannot drift from what the code validates.
const errorBody = z.object({ detail: z.string(), code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]) }).catchall(z.unknown());
const result = z.object({
  row: z.number().int().describe('0-based position of the data row in the upload'),
  probability: z.number().min(0).max(1).describe('P(default), rounded to 4 decimals'),
  prediction: z.string(),
  risk_level: z.enum(['Low', 'Medium', 'High']),
});
const rowError = z.object({
  row: z.number().int(),
  column: z.string().nullable(),
  code: z.enum(Object.keys(ROW_ERROR_CODES) as [string, ...string[]]),
  message: z.string(),
});
const predictResponse = z.object({
  n_rows: z.number().int(),
  results: z.array(result),
  model_version: z.string(),
  request_id: z.string(),
  errors: z.array(rowError),
  n_rejected: z.number().int(),
  errors_truncated: z.boolean().optional(),
  took_ms: z.number().optional(),
});
const health = z.object({ status: z.literal('ok') });
const feedbackResponse = z.object({ labelled: z.number().int(), in_window: z.number().int() });

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { unrepresentable: 'any' }) } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      {
        description:
          Object.entries(ERROR_CODES)
            .filter(([, v]) => v.status === c)
            .map(([k]) => k)
            .join(', ') || 'error',
        content: json(errorBody),
      },
    ]),
  );

export function openApiDocument(card: ModelCard, version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'driftline', version, description: `Serves ${card.name} ${card.version} and monitors its inputs for drift.` },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Needed on POST routes when API_KEY is set.' } },
    },
    paths: { ...writePaths(card), ...pagePaths(), ...readPaths() },
  };
}

/** The POST routes: scoring an upload, and labels. */
function writePaths(card: ModelCard): Record<string, unknown> {
  const row = rowSchema(card);
  const csvNote = `CSV with a header naming every feature (${card.features.map((f) => f.name).join(', ')}); raw names are accepted as aliases; other columns are passed through.`;
  const uploadBody = {
    required: true,
    content: {
      'multipart/form-data': {
        schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary', description: csvNote } } },
      },
      'text/csv': { schema: { type: 'string', description: csvNote } },
      'application/json': { schema: { type: 'array', items: z.toJSONSchema(row, { unrepresentable: 'any', io: 'input' }) } },
      'application/x-ndjson': { schema: { type: 'string', description: 'One JSON row object per line, as in application/json.' } },
    },
  };
  return {
    '/predict': {
      post: {
        summary: 'Score an upload, streamed; results stream back as they are computed',
        security: [{ bearer: [] }, {}],
        requestBody: uploadBody,
        responses: {
          200: {
            description: 'Results, in the format chosen by Accept',
            content: {
              ...json(predictResponse),
              'application/x-ndjson': {
                schema: {
                  type: 'string',
                  description:
                    'One line per row ({row, probability, prediction, risk_level} or {row, error: {column, code, message}}), then {summary}.',
                },
              },
              'text/csv': { schema: { type: 'string', description: 'The input columns, then probability, prediction, risk_level.' } },
            },
          },
          ...errors(400, 401, 406, 408, 413, 415, 429, 503),
        },
      },
    },
    '/api/feedback': {
      post: {
        summary: 'Attach labels to logged predictions (request_id,row,target or id,target)',
        security: [{ bearer: [] }, {}],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { type: 'array', items: { type: 'object' } } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        responses: { 200: { description: 'Labels applied', content: json(feedbackResponse) }, ...errors(400, 401, 404, 415) },
      },
    },
  };
}

/** The HTML pages. */
function pagePaths(): Record<string, unknown> {
  return {
    '/': {
      get: {
        summary: 'The dashboard (HTML; its scripts, styles and vendored libraries are files under /js, /css and /vendor)',
        responses: { 200: { description: 'OK', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/report.html': {
      get: {
        summary: 'The live window against the reference as a self-contained HTML report',
        responses: { 200: { description: 'OK', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors(503) },
      },
    },
  };
}

/** The GET routes that read the state, and the probes. */
function readPaths(): Record<string, unknown> {
  const read = (summary: string, schema?: z.ZodType) => ({
    get: { summary, responses: { 200: { description: 'OK', ...(schema === undefined ? {} : { content: json(schema) }) }, ...errors(503) } },
  });
  return {
    '/health': read('Liveness', health),
    '/ready': read('Readiness: 503 until the model and the store are loaded', health),
    '/dashboard/data': read('The original dashboard payload plus the full drift snapshot'),
    '/api/drift': read('The current drift snapshot'),
    '/api/drift/history': {
      get: {
        summary: 'Persisted drift snapshots',
        parameters: [
          { name: 'since', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer' } },
        ],
        responses: { 200: { description: 'OK' }, ...errors(400) },
      },
    },
    '/api/drift/trend': {
      get: {
        summary: 'Per-minute quantiles of a column',
        parameters: [{ name: 'column', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'OK' }, ...errors(400) },
      },
    },
    '/api/predictions': {
      get: {
        summary: 'The prediction log, streamed',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer' } },
          { name: 'format', in: 'query', schema: { enum: ['ndjson', 'csv'] } },
        ],
        responses: { 200: { description: 'OK' }, ...errors(400) },
      },
    },
    '/api/alerts': read('Recent alerts'),
    '/api/model': read('The model card (fields: docs/models.md)', modelCardSchema),
    '/api/reference': read('The reference profile'),
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain; version=0.0.4' } } } },
    '/openapi.json': read('This document'),
    '/ws': {
      get: {
        summary: `WebSocket: messages {type, v, data}; topics ${TOPICS.join(', ')} (?topics=a,b or {"type":"subscribe","topics":[…]})`,
        responses: { 101: { description: 'Switching Protocols' } },
      },
    },
  };
}
