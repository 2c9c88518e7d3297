import type { Alert, DriftedColumn } from './types.js';

/** Four decimals, except for small values (p-values) that rounding would show as 0. */
export function formatNumber(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return String(Math.round(v * 10_000) / 10_000);
}

const fmt = (v: unknown): string => (typeof v === 'number' ? formatNumber(v) : JSON.stringify(v));

/** One drifted column, as the dashboard shows it: test, score, and which side of its threshold. */
export function driftLine(d: DriftedColumn): string {
  const side = d.kind === 'p_value' ? '<=' : '>=';
  return `${d.column}: ${d.test_display_name} ${d.score === null ? 'n/a' : formatNumber(d.score)} ${side} threshold ${formatNumber(d.threshold)}`;
}

// A Slack section holds at most 3000 characters; a long list is cut with a count of the rest.
const MAX_LISTED = 25;

function driftedLines(a: Alert): string[] {
  const d = a.drifted ?? [];
  if (d.length === 0) return ['none'];
  const lines = d.slice(0, MAX_LISTED).map(driftLine);
  if (d.length > MAX_LISTED) lines.push(`and ${d.length - MAX_LISTED} more`);
  return lines;
}

/** Value and threshold, when the rule compared one number with one threshold. */
function compared(a: Alert): [string, string][] {
  if (a.value === null && a.threshold === null) return [];
  return [
    ['Value', a.value === null ? 'n/a' : fmt(a.value)],
    ['Threshold', a.threshold === null ? 'n/a' : fmt(a.threshold)],
  ];
}

/** Email subject and plain-text body: rule, status, values, threshold and model version. */
export function emailMessage(a: Alert): { subject: string; text: string } {
  const subject = `[driftline] ${a.status.toUpperCase()} ${a.severity}: ${a.title} (${a.rule}) — ${a.model.name} ${a.model.version}`;
  const lines = [
    `${a.title}`,
    '',
    `Status:    ${a.status}`,
    `Rule:      ${a.rule}`,
    `Severity:  ${a.severity}`,
    `Model:     ${a.model.name} version ${a.model.version}`,
    ...compared(a).map(([k, v]) => `${`${k}:`.padEnd(10)} ${v}`),
    `At:        ${a.at}`,
    '',
    a.message,
    '',
    ...(a.drifted === undefined ? [] : [`Drifted features (${a.drifted.length}):`, ...driftedLines(a).map((l) => `  ${l}`), '']),
    'Values:',
    ...Object.entries(a.values).map(([k, v]) => `  ${k}: ${fmt(v)}`),
    '',
    `Alert id: ${a.id}${a.resolves === undefined ? '' : ` (resolves ${a.resolves})`}`,
  ];
  return { subject, text: `${lines.join('\n')}\n` };
}

/** Slack incoming-webhook payload: a text fallback plus blocks. */
export function slackMessage(a: Alert): { text: string; blocks: unknown[] } {
  const icon = a.status === 'resolved' ? ':white_check_mark:' : a.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const text = `${icon} ${a.status.toUpperCase()} ${a.title} (${a.rule}) — ${a.model.name} ${a.model.version}: ${a.message}`;
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${a.status === 'resolved' ? 'Resolved' : 'Alert'}: ${a.title}`.slice(0, 150) } },
      { type: 'section', text: { type: 'plain_text', text: a.message.slice(0, 2900) } },
      ...(a.drifted === undefined
        ? []
        : [
            {
              type: 'section',
              text: { type: 'plain_text', text: `Drifted features (${a.drifted.length}):\n${driftedLines(a).join('\n')}`.slice(0, 2900) },
            },
          ]),
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Rule*\n${a.rule}` },
          { type: 'mrkdwn', text: `*Severity*\n${a.severity}` },
          ...compared(a).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })),
          { type: 'mrkdwn', text: `*Model*\n${a.model.name} ${a.model.version}` },
          { type: 'mrkdwn', text: `*At*\n${a.at}` },
        ],
      },
      {
        type: 'context',
        elements: [{ type: 'plain_text', text: `alert ${a.id}${a.resolves === undefined ? '' : ` resolves ${a.resolves}`}` }],
      },
    ],
  };
}
