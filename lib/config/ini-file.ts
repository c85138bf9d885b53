import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';

/** Where Haraka reads phishx.ini from in the Haraka directory `harakaDir`. */
export function iniPath(harakaDir: string, name = 'phishx.ini'): string {
  return path.join(harakaDir, 'config', name);
}

/** The file's text, or null when it does not exist. */
export function readIniText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`${file}: cannot be read: ${(err as Error).message}`);
  }
}

/**
 * Check the ini text line by line before Haraka's reader (which logs and skips a line it
 * cannot parse, and takes `key` alone as a key without value): every line that is not
 * blank, a comment or a `[section]` must be `key = value`. Throws ConfigError naming the
 * file and line.
 */
export function checkIniLines(text: string, file: string): void {
  const lines = text.split(/\r\n|\r|\n/);
  let pending = '';
  let from = 0;
  lines.forEach((line, i) => {
    if (!pending) from = i + 1;
    if (/^\s*[;#]/.test(line) || /^\s*$/.test(line)) {
      if (!pending) return;
    }
    const joined = pending + line;
    if (/\\\s*$/.test(line)) {
      pending = joined.replace(/\\\s*$/, '');
      return;
    }
    pending = '';
    if (/^\s*\[[^\]]*\]\s*$/.test(joined) || /^\s*$/.test(joined)) return;
    if (!joined.includes('=')) {
      throw new ConfigError(
        `${file} line ${from}: ${JSON.stringify(joined.trim().slice(0, 80))} is not \`key = value\` (a line without "=" would be skipped silently)`,
      );
    }
  });
}

/** True when the text holds nothing at all (zero bytes or white space): a truncated or emptied file, not a choice of defaults. */
export function isEmptyIni(text: string): boolean {
  return text.trim() === '';
}

/**
 * What a reload must refuse before the new text is used: the file deleted or emptied
 * (monitor mode and API tokens would silently fall back to defaults), or a line that is
 * not `key = value`. A file of comments only is a deliberate choice of defaults.
 */
export function checkIniForReload(harakaDir: string): void {
  const file = iniPath(harakaDir);
  const text = readIniText(file);
  if (text === null)
    throw new ConfigError(`${file} was deleted: keeping the running config (restore the file; to run on the defaults, leave a file with a comment line)`);
  if (isEmptyIni(text))
    throw new ConfigError(
      `${file} is empty: keeping the running config (an emptied or truncated file is not taken as "all defaults"; to run on the defaults, leave a comment line)`,
    );
  checkIniLines(text, file);
}

/** What start must refuse: a line that is not `key = value` (a missing or empty file means the defaults). */
export function checkIniAtStart(harakaDir: string): void {
  const file = iniPath(harakaDir);
  const text = readIniText(file);
  if (text !== null) checkIniLines(text, file);
}
