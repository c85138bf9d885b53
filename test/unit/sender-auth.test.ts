import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ResultStore from 'haraka-results';
import { senderAuthOf } from '../../lib/haraka/sender-auth.js';

// Haraka's real result store, filled the way haraka-plugin-spf and haraka-plugin-dkim fill
// it (their `txn.results.add(this, …)` calls); the plugins themselves need DNS.
const quiet = { loginfo: () => undefined, logerror: () => undefined, logdebug: () => undefined };
const spf = { name: 'spf' };
const dkim = { name: 'dkim' };

describe('SPF / DKIM results from Haraka plugins (senderAuthOf)', () => {
  it('reads the SPF mfrom result and DKIM pass / fail domains', () => {
    const r = new ResultStore(quiet);
    r.add(spf, { scope: 'mfrom', result: 'Pass', domain: 'Mail.Example.com', emit: true });
    r.add(dkim, { domain: 'example.com', identity: '@example.com', selector: 's1', pass: 'example.com' });
    r.add(dkim, { domain: 'esp.example.net', identity: '@esp.example.net', selector: 's2', fail: 'esp.example.net' });
    assert.deepEqual(senderAuthOf(r), { spf: { result: 'pass', domain: 'mail.example.com' }, dkim: { pass: ['example.com'], fail: ['esp.example.net'] } });
  });

  it('counts unsigned mail as DKIM checked with nothing passing', () => {
    const r = new ResultStore(quiet);
    r.add(dkim, { skip: 'no/bad signature' });
    assert.deepEqual(senderAuthOf(r), { dkim: { pass: [], fail: [] } });
  });

  it('gives nothing when the plugins did not run or only recorded an error', () => {
    assert.equal(senderAuthOf(new ResultStore(quiet)), undefined);
    const r = new ResultStore(quiet);
    r.add(dkim, { err: 'DNS timeout' });
    r.add(spf, { skip: 'host(private_ip)' });
    assert.equal(senderAuthOf(r), undefined);
    assert.equal(senderAuthOf(undefined), undefined);
  });
});
