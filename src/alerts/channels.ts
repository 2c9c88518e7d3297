import { IncomingWebhook } from '@slack/webhook';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { emailMessage, slackMessage } from './format.js';
import type { Alert } from './types.js';

export interface Channel {
  readonly name: 'email' | 'slack';
  send(alert: Alert): Promise<void>;
  close?(): void;
}

export interface ChannelConfig {
  SMTP_URL?: string | undefined;
  ALERT_EMAIL_FROM?: string | undefined;
  ALERT_EMAIL_TO?: string | undefined;
  SLACK_WEBHOOK_URL?: string | undefined;
}

// Delivery runs in the background, but a hung peer must not hold a delivery forever.
const TIMEOUT_MS = 15_000;

/** Removes a secret from a peer's error text (a webhook URL is the whole credential). */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) {
    if (s === undefined || s === '') continue;
    out = out.split(s).join('[redacted]');
    try {
      const u = new URL(s);
      if (u.password !== '') out = out.split(u.password).join('[redacted]');
      if (u.pathname.length > 1) out = out.split(u.pathname).join('/[redacted]');
    } catch {
      // not a URL
    }
  }
  return out;
}

export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(private readonly cfg: { url: string; from: string; to: string }) {
    this.transport = nodemailer.createTransport({
      url: cfg.url,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    } as SMTPTransport.Options);
  }

  async send(alert: Alert): Promise<void> {
    const { subject, text } = emailMessage(alert);
    try {
      // A stable Message-ID per alert lets a mail system drop a repeat after a crash mid-send.
      await this.transport.sendMail({ from: this.cfg.from, to: this.cfg.to, subject, text, messageId: `<${alert.id}@driftline>` });
    } catch (err) {
      // No `cause`: the original error's message and stack can hold the SMTP URL's password.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrub(`email: ${(err as Error).message}`, [this.cfg.url]));
    }
  }

  close(): void {
    this.transport.close();
  }
}

export class SlackChannel implements Channel {
  readonly name = 'slack';
  private readonly hook: IncomingWebhook;

  constructor(private readonly url: string) {
    this.hook = new IncomingWebhook(url, { timeout: TIMEOUT_MS });
  }

  async send(alert: Alert): Promise<void> {
    try {
      await this.hook.send(slackMessage(alert) as Parameters<IncomingWebhook['send']>[0]);
    } catch (err) {
      // No `cause`: the original error can hold the webhook URL, which is the secret.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrub(`slack: ${(err as Error).message}`, [this.url]));
    }
  }
}

/** The configured channels, and a line per channel saying whether it is on and why not. */
export function channelsFrom(cfg: ChannelConfig): { channels: Channel[]; status: string[] } {
  const channels: Channel[] = [];
  const status: string[] = [];
  const missing = (['SMTP_URL', 'ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO'] as const).filter((k) => cfg[k] === undefined);
  if (missing.length === 0) {
    channels.push(new EmailChannel({ url: cfg.SMTP_URL!, from: cfg.ALERT_EMAIL_FROM!, to: cfg.ALERT_EMAIL_TO! }));
    status.push(`email alerts on, to ${cfg.ALERT_EMAIL_TO}`);
  } else status.push(`email alerts off (${missing.join(', ')} not set)`);
  if (cfg.SLACK_WEBHOOK_URL !== undefined) {
    channels.push(new SlackChannel(cfg.SLACK_WEBHOOK_URL));
    status.push('Slack alerts on');
  } else status.push('Slack alerts off (SLACK_WEBHOOK_URL not set)');
  return { channels, status };
}
