import PostalMime from 'postal-mime';
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage, UsageError } from '../errors.js';
import { splitMbox } from '../message/mbox.js';

/** What every phishx command shares: its shape, the output streams, option parsing. */

export type Out = { out: (s: string) => void; err: (s: string) => void };
export const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** One `phishx` command: its name, its --help text and what it does (returns the exit code). */
export interface Command {
  name: string;
  help: string;
  run(args: string[], io: Out): Promise<number>;
}

/** Run an option parser; what it throws becomes a UsageError naming the command and showing its help. */
export function asUsage<T>(command: string, help: string, parseOptions: () => T): T {
  try {
    return parseOptions();
  } catch (err) {
    throw new UsageError(`${command}: ${errorMessage(err)}\n\n${help}`);
  }
}

/** Parse a command's options (plus -h / --help); a bad option is a UsageError showing the command's help. */
export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, command: string, help: string): ReturnType<typeof parseArgs> {
  return asUsage(command, help, () =>
    parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true }),
  );
}

/** Read each file and hand it to `fn`; an unreadable file is reported and counted, not fatal. Returns the exit code. */
export async function forEachFile(command: string, files: string[], io: Out, fn: (file: string, raw: Buffer) => Promise<boolean>): Promise<number> {
  let failed = 0;
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = await readFile(file);
    } catch (err) {
      io.err(`phishx ${command}: cannot read ${file}: ${errorMessage(err)}\n`);
      failed++;
      continue;
    }
    if (!(await fn(file, raw))) failed++;
  }
  return failed ? 1 : 0;
}

/**
 * forEachFile over messages: a mailbox file (mbox) of several messages is each of them in
 * turn, labelled FILE#1, FILE#2, …; any other file (or an mbox of one) is one message. False from `fn` counts as a failure.
 */
export async function forEachMessage(command: string, files: string[], io: Out, fn: (label: string, raw: Buffer) => Promise<boolean>): Promise<number> {
  return forEachFile(command, files, io, async (file, raw) => {
    const messages = splitMbox(raw);
    if (!messages || messages.length === 1) return fn(file, messages?.[0] ?? raw);
    let ok = true;
    for (const [i, m] of messages.entries()) if (!(await fn(`${file}#${i + 1}`, m))) ok = false;
    return ok;
  });
}

/** One label of a host name: letters, digits and inner hyphens. */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
/**
 * An address an SMTP server takes at MAIL FROM (with the ASCII test beside it): a local part
 * without spaces, brackets or `@`, and a domain of two or more labels — a phish's
 * `noreply@𝐚𝐨𝐤.𝐝𝐞` or `x@%correios.com` would be refused there.
 */
const ENVELOPE_ADDRESS = new RegExp(`^[^\\s<>@]+@${LABEL}(?:\\.${LABEL})+$`);

/**
 * The address of a raw message's From header ('' when none, or when an SMTP server would
 * refuse it at MAIL FROM): the envelope sender `scan` and `send` use unless `--from` is
 * given, as the sender's own server would. (An envelope on another domain than From costs
 * the message its alignment, see `SENDER_LINKS_ALIGNED`.)
 */
export function headerFromAddress(raw: Buffer): string {
  const head = raw
    .subarray(0, 65536)
    .toString('latin1')
    .split(/\r?\n\r?\n/, 1)[0]
    .replace(/\r?\n[ \t]+/g, ' ');
  const value = /^From:(.*)$/im.exec(head)?.[1];
  if (!value) return '';
  try {
    const address = PostalMime.addressParser(value, { flatten: true })[0]?.address ?? '';
    return /^[\x21-\x7e]+$/.test(address) && ENVELOPE_ADDRESS.test(address) ? address : '';
  } catch {
    return '';
  }
}
