import assert from 'node:assert/strict';

// Tests send through the same client as `phishx send`.
export { sendRaw, toCrlf, type SmtpAnswer } from '../../lib/smtp-send.js';

/** The scan id PhishX puts in its SMTP replies. */
export function idFrom(response: string): string {
  const m = /PhishX id ([0-9a-f]{16})/.exec(response);
  assert.ok(m, `no PhishX id in "${response}"`);
  return m[1];
}
