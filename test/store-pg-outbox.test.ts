// The alert outbox in PostgreSQL (src/store/pg/outbox.ts), against a real server this file
// starts: the SQLite outbox's semantics, one winner per claim across replicas, leases, and
// AlertSender delivering through it to real receivers exactly once.
import t from 'tap';
import http from 'node:http';
import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertOutbox, AlertSender, EmailChannel, SlackChannel, type Alert, type OutboxPort } from '../src/alerts/index.js';
import { createLogger } from '../src/log.js';
import { openDatabase } from '../src/store/db.js';
import { PgAlertOutbox } from '../src/store/pg/outbox.js';
import { startPostgres } from './helpers/postgres.js';
import { freePort, startHook, startSmtp } from './helpers/receivers.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

type Teardown = { teardown(fn: () => unknown): void };

async function freshDb(): Promise<string> {
  if (cluster.skip !== false) throw new Error('no PostgreSQL');
  return cluster.database();
}

async function openOutbox(t: Teardown, url: string, opts: { retention?: number; leaseMs?: number } = {}): Promise<PgAlertOutbox> {
  const o = await PgAlertOutbox.open({ connectionString: url, ...opts });
  t.teardown(() => o.close());
  return o;
}

let serial = 0;
function alert(rule: string, at: number, status: Alert['status'] = 'firing'): Alert {
  return {
    id: `alert-${++serial}-${rule}`,
    rule,
    title: `${rule} title`,
    severity: 'warning',
    status,
    message: `${rule} went over`,
    value: 0.5,
    threshold: 0.3,
    values: { share: 0.5 },
    model: { name: 'credit-default', version: 'v1' },
    at: new Date(at).toISOString(),
  };
}

t.test('the same calls give the same answers as the SQLite outbox', { skip, timeout: 20_000 }, async (t) => {
  const sqlite = new AlertOutbox(openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'dl-outbox-')), 'driftline.db')), 3);
  const pgo = await openOutbox(t, await freshDb(), { retention: 3 });
  const base = 1_700_000_000_000;
  // The same script against both, step by step; every answer is compared.
  const script = async (o: OutboxPort): Promise<unknown[]> => {
    const out: unknown[] = [];
    // Deliveries due at the same ms come in no set order.
    const due = async (now: number): Promise<string[]> =>
      (await o.due(now)).map((d) => `${d.alert.id}/${d.channel}/${d.attempts}/${d.alert.status}`).sort();
    const a1 = alert('drift', base);
    const a2 = alert('accuracy', base + 1);
    await o.record(a1, ['email', 'slack'], base);
    await o.record(a2, ['slack'], base + 10);
    out.push(await due(base + 5), await o.nextDue(), await o.undelivered());
    out.push(await o.claim(a1.id, 'email'), await o.claim(a1.id, 'email'), await o.claim(a1.id, 'slack'));
    await o.sent(a1.id, 'email', base + 20);
    await o.retryAt(a1.id, 'slack', base + 500, 'slack: 503 '.repeat(100));
    out.push(await due(base + 100), await o.nextDue(), await o.undelivered(), await o.recent(10));
    // A claim left by a crash: the SQLite outbox takes every one back, the PostgreSQL one only
    // stale ones, so compare after the claim is marked sent.
    out.push(await o.claim(a2.id, 'slack'));
    await o.sent(a2.id, 'slack', base + 30);
    out.push(await o.recover(), await o.undelivered());
    // Retention: 3 alerts kept, the oldest go with their deliveries; the latest per rule.
    await o.record(alert('drift', base + 2, 'resolved'), ['email'], base + 40);
    await o.record(alert('quality', base + 3), [], base + 50);
    out.push(
      (await o.recent(10)).map((a) => [a.rule, a.status, a.deliveries.length]),
      [...(await o.lastByRule())].map(([rule, a]) => [rule, a.status]).sort(),
      await o.undelivered(),
      await o.nextDue(),
    );
    return out;
  };
  serial = 0;
  const expected = await script(sqlite);
  serial = 0;
  const got = await script(pgo);
  t.same(got, expected, "every answer equals the SQLite outbox's");
  t.equal(expected[4], false, 'a second claim of the same delivery loses (in both)');
});

t.test(
  'claim: outbox instances on separate connections race for each delivery; exactly one wins each time',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const outboxes = await Promise.all(Array.from({ length: 5 }, () => openOutbox(t, url)));
    const alerts = Array.from({ length: 30 }, (_, i) => alert('drift', Date.now() + i));
    for (const a of alerts) await outboxes[0]!.record(a, ['email', 'slack']);
    const winners: number[] = [];
    for (const a of alerts) {
      for (const channel of ['email', 'slack']) {
        const won = await Promise.all(outboxes.map((o) => o.claim(a.id, channel)));
        winners.push(won.filter(Boolean).length);
      }
    }
    t.same(
      winners,
      winners.map(() => 1),
      `exactly one of ${outboxes.length} claims won, for each of ${winners.length} deliveries`,
    );
    t.same(await outboxes[1]!.due(Date.now() + 1000), [], 'nothing claimed is due to anyone');
  },
);

t.test(
  'a claim is a lease: a live one is never recovered or taken over; a stale one is, and the old holder cannot put it back',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const a = await openOutbox(t, url, { leaseMs: 600 });
    const b = await openOutbox(t, url, { leaseMs: 600 });
    const x = alert('drift', Date.now());
    await a.record(x, ['email']);
    t.ok(await a.claim(x.id, 'email'), 'A claims');
    t.equal(await b.recover(), 0, 'B starting up does not take back a claim under way');
    t.same(await b.due(Date.now()), [], 'nor is it due to B');
    t.notOk(await b.claim(x.id, 'email'), 'nor can B claim it');
    const next = await b.nextDue();
    t.ok(next !== null && next > Date.now() && next <= Date.now() + 700, 'nextDue says when the claim goes stale');
    await sleep(800);
    t.same(
      (await b.due(Date.now())).map((d) => [d.alert.id, d.channel, d.attempts]),
      [[x.id, 'email', 1]],
      'stale: due to B',
    );
    t.ok(await b.claim(x.id, 'email'), 'B takes it over');
    await a.retryAt(x.id, 'email', Date.now(), 'A failed late');
    t.same(await b.due(Date.now() + 1000), [], "A's late failure does not put back B's claim");
    await b.sent(x.id, 'email');
    const [r] = await a.recent(1);
    t.same(
      r?.deliveries.map((d) => [d.channel, d.state, d.attempts, d.last_error]),
      [['email', 'sent', 2, null]],
      'sent once by B, on the second attempt',
    );
    // recover: a stale claim goes back to pending.
    const y = alert('drift', Date.now());
    await a.record(y, ['slack']);
    t.ok(await a.claim(y.id, 'slack'), 'A claims another');
    await sleep(800);
    t.equal(await b.recover(), 1, 'a stale claim is recovered');
    t.equal((await b.due(Date.now())).length, 1, 'and due again');
  },
);

t.test(
  'two AlertSenders on separate outbox instances deliver each alert to a real SMTP server and webhook exactly once',
  { skip, timeout: 30_000 },
  async (t) => {
    const url = await freshDb();
    const smtpPort = await freePort();
    const smtp = await startSmtp(smtpPort);
    t.teardown(() => smtp.close());
    const hook = await startHook();
    t.teardown(() => hook.close());
    const mails = smtp.mails;
    const posts = hook.posts;
    const hookUrl = hook.url;

    const log = createLogger('silent');
    const senders = await Promise.all(
      ['a', 'b'].map(async () => {
        const outbox = await openOutbox(t, url);
        const channels = [
          new EmailChannel({ url: `smtp://127.0.0.1:${smtpPort}`, from: 'driftline@example.test', to: 'oncall@example.test' }),
          new SlackChannel(hookUrl),
        ];
        const s = new AlertSender(outbox, channels, log, { baseDelayMs: 50, maxDelayMs: 300 });
        t.teardown(() => s.stop());
        return { outbox, sender: s };
      }),
    );
    // Recorded before either sender starts, so both find every delivery due in their first round.
    const alerts = Array.from({ length: 6 }, (_, i) => alert('drift', Date.now() + i));
    for (const a of alerts) await senders[0]!.outbox.record(a, ['email', 'slack']);
    for (const s of senders) s.sender.start();
    const end = Date.now() + 15_000;
    while ((mails.length < alerts.length || posts.length < alerts.length) && Date.now() < end) await sleep(20);
    // Both senders kicked again after everything went out: nothing goes twice.
    for (const s of senders) s.sender.kick();
    await sleep(500);
    t.equal(mails.length, alerts.length, 'one mail per alert');
    t.same(
      [...new Set(mails.map((m) => m.messageId))].sort(),
      alerts.map((a) => `<${a.id}@driftline>`).sort(),
      'each alert mailed once, by its id',
    );
    t.equal(posts.length, alerts.length, 'one webhook post per alert');
    t.equal(await senders[1]!.outbox.undelivered(), 0, 'nothing left undelivered');
    const states = (await senders[1]!.outbox.recent(10)).flatMap((a) => a.deliveries.map((d) => `${d.state}/${d.attempts}`));
    t.same(
      states,
      states.map(() => 'sent/1'),
      'every delivery sent on its first attempt',
    );
  },
);

t.test(
  'an outbox call that fails ends the round; the sender tries again later and delivers once the outbox answers',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const outbox = await openOutbox(t, url);
    const posts: string[] = [];
    const hook = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts.push(req.url ?? '');
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => hook.close(() => r())));
    const errors: string[] = [];
    const log = createLogger('error', {
      write: (line: string) => {
        errors.push((JSON.parse(line) as { msg: string }).msg);
      },
    });
    const sender = new AlertSender(outbox, [new SlackChannel(`http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/hook`)], log, {
      baseDelayMs: 100,
      maxDelayMs: 300,
    });
    t.teardown(() => sender.stop());
    await outbox.record(alert('drift', Date.now()), ['slack']);
    // The deliveries table out of reach: every call of the sender's round fails, as with the
    // database unreachable, but the server answers at once.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    await c.query('ALTER TABLE alert_deliveries RENAME TO alert_deliveries_away');
    sender.start();
    const end = Date.now() + 5000;
    while (errors.filter((e) => e.includes('round failed')).length < 2 && Date.now() < end) await sleep(20);
    t.ok(errors.filter((e) => e.includes('round failed')).length >= 2, 'failed rounds are logged and tried again');
    t.equal(posts.length, 0, 'nothing sent while the outbox fails');
    await c.query('ALTER TABLE alert_deliveries_away RENAME TO alert_deliveries');
    while (posts.length < 1 && Date.now() < end + 5000) await sleep(20);
    await sleep(300);
    t.equal(posts.length, 1, 'sent once the outbox answers, and once only');
    t.equal(await outbox.undelivered(), 0, 'marked sent');
  },
);
