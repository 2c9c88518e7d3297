// Real receivers for alert deliveries: an SMTP server (smtp-server) and a webhook, on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A port free now, for a receiver that starts later (a test of peers that are down at first). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Decodes RFC 2047 Q encoded-words (nodemailer encodes a subject with non-ASCII that way). */
function decodeWords(v: string): string {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, q: string) =>
    Buffer.from(
      q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8'),
  );
}

/** A quoted-printable body (nodemailer's choice for text with long lines or `=`) as text. */
function decodeQuotedPrintable(v: string): string {
  const bytes = v.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export interface Mail {
  subject: string;
  text: string;
  messageId: string;
}

export function startSmtp(port: number): Promise<{ mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const [head, ...body] = raw.split('\r\n\r\n');
        const header = (k: string) =>
          new RegExp(`^${k}: (.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(head ?? '')?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '';
        mails.push({
          subject: decodeWords(header('Subject')),
          text: decodeQuotedPrintable(body.join('\r\n\r\n')),
          messageId: header('Message-ID'),
        });
        cb();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve({ mails, close: () => new Promise((r) => server.close(() => r())) })),
  );
}

/** A webhook receiver on `port` (0: any free one); `url` is its address with a Slack-like path. */
export function startHook(port = 0): Promise<{
  url: string;
  posts: { path: string; body: { text: string; blocks: unknown[] } }[];
  close: () => Promise<void>;
}> {
  const posts: { path: string; body: { text: string; blocks: unknown[] } }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string; blocks: unknown[] } });
      res.end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/services/T0/B0/hook`,
        posts,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}
