import type { Alert } from './types.js';

const fmt = (v: unknown): string => (typeof v === 'number' ? String(Math.round(v * 10_000) / 10_000) : JSON.stringify(v));

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
    `Value:     ${a.value === null ? 'n/a' : fmt(a.value)}`,
    `Threshold: ${a.threshold === null ? 'n/a' : fmt(a.threshold)}`,
    `At:        ${a.at}`,
    '',
    a.message,
    '',
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
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Rule*\n${a.rule}` },
          { type: 'mrkdwn', text: `*Severity*\n${a.severity}` },
          { type: 'mrkdwn', text: `*Value*\n${a.value === null ? 'n/a' : fmt(a.value)}` },
          { type: 'mrkdwn', text: `*Threshold*\n${a.threshold === null ? 'n/a' : fmt(a.threshold)}` },
          { type: 'mrkdwn', text: `*Model*\n${a.model.name} ${a.model.version}` },
          { type: 'mrkdwn', text: `*At*\n${a.at}` },
        ],
      },
      { type: 'context', elements: [{ type: 'plain_text', text: `alert ${a.id}${a.resolves === undefined ? '' : ` resolves ${a.resolves}`}` }] },
    ],
  };
}
