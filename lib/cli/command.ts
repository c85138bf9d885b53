import PostalMime from 'postal-mime';
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage, UsageError } from '../errors.js';

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
