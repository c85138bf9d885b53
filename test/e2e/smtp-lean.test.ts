import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp.js';
import { dataBytes, sendLean } from '../helpers/smtp-lean.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

// The bench's load generator: it must send what nodemailer sends, or the bench would measure other mail.
const env = { from: 'alice@example.com', to: ['bob@example.org'] };

/** The delivered message without the lines Haraka and PhishX add per delivery. */
const body = (m: string): string =>
  m
    .split('\r\n')
    .filter((l) => !/^(Received|X-PhishX-[\w-]+|\s)/i.test(l) || l === '')
    .join('\r\n');

describe('the lean SMTP client (bench load generator)', () => {
  let h: HarakaInstance;
  let sink: SmtpSink;
  before(async () => {
    [h, sink] = await Promise.all([startHaraka(), startSmtpSink()]);
  });
  after(async () => {
    await h?.stop();
    await sink?.close();
  });

  it('dot-stuffs, ends the data once, and builds the wire form once per buffer', () => {
    const raw = Buffer.from('Subject: x\n\n.leading dot\nmiddle\n..two\nlast');
    const wire = dataBytes(raw);
    assert.equal(wire.toString('latin1'), 'Subject: x\r\n\r\n..leading dot\r\nmiddle\r\n...two\r\nlast\r\n.\r\n');
    assert.equal(dataBytes(raw), wire);
    assert.equal(dataBytes('.a\r\n').toString('latin1'), '..a\r\n.\r\n');
  });

  it('delivers through Haraka the same message nodemailer delivers, and gets the same answers', async () => {
    const raw = cleanMessage({ subject: 'lean vs nodemailer', body: 'Hi,\n.a line that starts with a dot\n..and two\nbye' });
    const lean = await sendLean(h.port, Buffer.from(raw), env);
    const node = await sendRaw(h.port, raw, env);
    assert.equal(lean.code, 250, lean.response);
    assert.equal(node.code, 250, node.response);
    const got = (await h.delivered()).filter((m) => m.includes('Subject: lean vs nodemailer'));
    assert.equal(got.length, 2);
    assert.equal(body(got[0]), body(got[1]));
    assert.match(got[0], /\r\n\.a line that starts with a dot\r\n\.\.and two\r\n/);
    const rejected = await sendLean(h.port, phishMessage(), env);
    assert.equal(rejected.code, 550, rejected.response);
    assert.match(rejected.response, /^550 /);
  });

  it('reads multi-line replies, sends every recipient, and stops at the first refusal', async () => {
    const a = await sendLean(sink.port, 'Subject: s\r\n\r\nhello', { from: 'a@example.com', to: ['b@example.org', 'c@example.org'] });
    assert.equal(a.code, 250, a.response);
    const m = sink.messages.at(-1);
    assert.deepEqual(m && { from: m.from, to: m.to, data: m.data }, {
      from: 'a@example.com',
      to: ['b@example.org', 'c@example.org'],
      data: 'Subject: s\r\n\r\nhello',
    });
    // A server that greets in two lines and refuses the second recipient in two: the answer is that refusal, no DATA sent.
    const heard: string[] = [];
    const server = net.createServer((sock) => {
      sock.write('220-refuser\r\n220 ESMTP\r\n');
      sock.on('data', (d: Buffer) => {
        for (const line of d.toString('latin1').split('\r\n').filter(Boolean)) {
          heard.push(line.slice(0, 4));
          sock.write(line.includes('<nobody@') ? '550-5.1.1 no such user\r\n550 5.1.1 nobody here\r\n' : '250 ok\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const refused = await sendLean(port, 'Subject: s\r\n\r\nhello', { from: 'a@example.com', to: ['b@example.org', 'nobody@example.org'] });
      assert.deepEqual(refused, { ...refused, code: 550, response: '550 5.1.1 nobody here' });
      assert.deepEqual(
        heard.filter((v) => v !== 'QUIT'),
        ['EHLO', 'MAIL', 'RCPT', 'RCPT'],
      );
    } finally {
      server.close();
    }
  });

  it('answers 0 (never rejects) when nothing listens', async () => {
    const a = await sendLean(1, 'Subject: s\r\n\r\nx', env, { timeoutMs: 2000 });
    assert.equal(a.code, 0);
    assert.ok(a.response.length > 0);
  });
});
