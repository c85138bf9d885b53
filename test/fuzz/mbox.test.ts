import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitMbox } from '../../lib/message/mbox.js';
import { check, runs, SEED } from './settings.js';

/**
 * Mailbox files are an input boundary of `phishx scan` / `send`: a user's exported folder,
 * written by whatever client. Whatever the messages hold — body lines starting "From " (a
 * date and time in them or not, quoted or not), ">From " lines, blank lines, CRs, any byte —
 * an mbox written by the rules (a separator per message, body "From " lines quoted with ">",
 * an empty line after each message) gives back exactly its messages, in order, each byte kept.
 */

const tricky = fc.constantFrom(
  'From here on, a body line.',
  'From a@example.com Thu Jan  1 00:00:00 2026',
  'From - Fri Jan  2 00:00:00 2026',
  '>From quoted',
  '>>From twice',
  '> From not quoted',
  '',
  '\r',
  'Subject: x',
);
const line = fc.oneof(
  { weight: 2, arbitrary: tricky },
  {
    weight: 3,
    arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }).map((s) => s.replace(/\n/g, '')),
  },
);
const message = fc.array(line, { maxLength: 12 }).map((ls) => ls.join('\n'));
const separator = fc.constantFrom(
  'From MAILER-DAEMON Thu Apr 29 23:34:45 2019',
  'From - Fri Jan  2 00:00:00 2026',
  'From 1234@xxx Thu Jun 27 12:00:00 +0000 2024',
);

/** An mboxrd writer: a separator, the message with its "From " lines quoted, an empty line. */
const write = (messages: readonly string[], seps: readonly string[]): Buffer =>
  Buffer.from(messages.map((m, i) => `${seps[i % seps.length]}\n${m.replace(/^(>*From )/gm, '>$1')}\n\n`).join(''), 'latin1');

describe(`mailbox files under generated input (seed ${SEED})`, () => {
  it('gives back every message of a well-written mbox, byte for byte', async () => {
    await check(
      'mbox',
      fc.record({ messages: fc.array(message, { minLength: 1, maxLength: 6 }), seps: fc.array(separator, { minLength: 1, maxLength: 3 }) }),
      runs(300, 5000),
      (x) => {
        const got = splitMbox(write(x.messages, x.seps));
        assert.deepEqual(
          got?.map((b) => b.toString('latin1')),
          x.messages.map((m) => `${m}\n`),
        );
        return Promise.resolve();
      },
    );
  });

  it('never throws on any bytes, and a file not starting with "From " is no mbox', async () => {
    const bytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));
    await check(
      'mbox-bytes',
      fc.oneof(
        bytes,
        bytes.map((b) => Buffer.concat([Buffer.from('From x 00:00 '), b])),
      ),
      runs(300, 5000),
      (b) => {
        const got = splitMbox(b);
        if (!b.toString('latin1').startsWith('From ')) assert.equal(got, null);
        else if (got) assert.ok(got.every((m) => m.length <= b.length));
        return Promise.resolve();
      },
    );
  });
});
