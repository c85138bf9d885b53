import path from 'node:path';
import { parseHostPort } from '../config/values.js';

/**
 * Where released mail goes: `[release] smtp` when set, else this Haraka's own first listen
 * address from `config/smtp.ini` (an any-address becomes loopback), so a release takes the
 * same plugins, queue and relay as allowed mail.
 */
export function releaseTarget(configured: string, harakaDir: string): { host: string; port: number } {
  const text = configured.trim() || ownListen(harakaDir);
  const hp = parseHostPort(text);
  if (!hp) throw new Error(`release target ${JSON.stringify(text)} is not host:port`);
  const host = hp.host === '0.0.0.0' ? '127.0.0.1' : hp.host === '::' || hp.host === '::0' ? '::1' : hp.host;
  return { host, port: hp.port };
}

function ownListen(harakaDir: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hc = require('haraka-config') as { module_config(root: string): { get(name: string, type?: string): { main?: { listen?: string } } } };
    const listen = hc.module_config(path.resolve(harakaDir)).get('smtp.ini', 'ini').main?.listen;
    return String(listen ?? '[::0]:25')
      .split(',')[0]
      .trim();
  } catch {
    return '[::0]:25';
  }
}
