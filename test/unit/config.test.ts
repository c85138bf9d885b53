import { checkIniLines, isEmptyIni } from '../../lib/config/ini-file.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, loadConfigFromDir, readIniFile } from '../../lib/config/load.js';
import { SCHEMA } from '../../lib/config/schema.js';
import { parseHostPort } from '../../lib/config/values.js';
import { ConfigError } from '../../lib/errors.js';
import { REPO } from '../helpers/haraka.js';

const noEnv = {};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'PHISHX_CONFIG_INVALID');
    return err;
  }
  assert.fail('no ConfigError thrown');
}

describe('config', () => {
  it('[redis]: Sentinel and Cluster addresses are host:port, need url, exclude each other; the prefix has no hash tag braces', () => {
    const c = buildConfig({ redis: { url: 'redis://:pw@cluster/0', cluster_nodes: '10.0.0.1:6379, 10.0.0.2:6379' } }, { env: noEnv });
    assert.deepEqual(c.redis.cluster_nodes, ['10.0.0.1:6379', '10.0.0.2:6379']);
    assert.match(
      configError(() => buildConfig({ redis: { url: 'redis://c/0', cluster_nodes: '10.0.0.1' } }, { env: noEnv })).message,
      /cluster_nodes: "10.0.0.1" is not host:port/,
    );
    assert.match(configError(() => buildConfig({ redis: { cluster_nodes: '10.0.0.1:6379' } }, { env: noEnv })).message, /cluster_nodes: set url too/);
    assert.match(
      configError(() => buildConfig({ redis: { url: 'redis://c/0', cluster_nodes: '10.0.0.1:6379', sentinels: '10.0.0.1:26379' } }, { env: noEnv })).message,
      /cluster_nodes or sentinels, not both/,
    );
    assert.match(configError(() => buildConfig({ redis: { sentinels: 'x:y' } }, { env: noEnv })).message, /sentinels: "x:y" is not host:port/);
    assert.match(configError(() => buildConfig({ redis: { url: 'redis://h/0', key_prefix: '{px}:' } }, { env: noEnv })).message, /must not contain \{ or \}/);
  });

  it('shows a long value, section or event name from the file clipped: every error stays one short line', () => {
    // Found by `npm run fuzz` (seed 1159276225): a 5,000-character [clamav] hosts value came back whole in the error.
    const long = 'x'.repeat(5000);
    const domain = `${'a'.repeat(4990)}.example`;
    const env = { HOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const cases: Array<[string, Record<string, Record<string, unknown>>, RegExp]> = [
      ['clamd host', { clamav: { hosts: long } }, /\[clamav\] hosts: not host:port or \/path\/to\/socket: "x{80}…"$/],
      ['tenant domain', { [`tenant.${long}!`]: { mode: 'monitor' } }, /: not a domain$/],
      ['tenant thresholds', { [`tenant.${domain}`]: { quarantine: 90, reject: 80 } }, /quarantine = 90 is above reject = 80$/],
      ['endpoint name', { [`webhook.${long}`]: { url: 'https://soar.example/h' } }, /an endpoint name is letters/],
      [
        'event names',
        { 'webhook.soar': { url: 'https://soar.example/h', events: Array.from({ length: 400 }, (_, i) => `${long.slice(0, 20)}${i}`).join(',') } },
        /unknown event type x{20}0, x{20}1, x{20}2 and 397 more \(known:/,
      ],
      ['secret variable', { 'webhook.soar': { url: 'https://soar.example/h', secret_env: long } }, /environment variable "?x{60}…"? is not set$/],
      ['secret', { 'webhook.soar': { url: 'https://soar.example/h', secret_env: 'HOOK_SECRET' } }, /secret_env: HOOK_SECRET: a webhook secret/],
    ];
    for (const [what, ini, expected] of cases) {
      const { message } = configError(() => buildConfig(ini, { env: what === 'secret' ? { HOOK_SECRET: `whsec_${'!'.repeat(40)}` } : env }));
      assert.match(message, expected, what);
      assert.ok(message.length < 400 && !message.includes('\n'), `${what}: ${message.length} characters`);
    }
  });

  it('builds a complete frozen config from nothing but defaults', () => {
    const c = buildConfig({}, { env: noEnv });
    assert.equal(c.main.mode, 'enforce');
    assert.equal(c.thresholds.quarantine, SCHEMA.thresholds.quarantine.default);
    assert.equal(c.thresholds.reject, SCHEMA.thresholds.reject.default);
    assert.deepEqual(c.sidecar.listen, { host: '127.0.0.1', port: 9464 });
    assert.ok(c.brands.paypal.includes('paypal.com'));
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.thresholds) && Object.isFrozen(c.brands.paypal));
    // The config type is inferred from the schema table: these assignments type-check only
    // because an enum key is its union, an int a number, a listen key host/port or null.
    const mode: 'enforce' | 'monitor' = c.main.mode;
    const fallback: 'embedded' | 'none' = c.nlp.fallback;
    const listen: { host: string; port: number } | null = c.sidecar.listen;
    const hosts: string[] = c.clamav.hosts;
    const budget: number = c['breaker.clamav'].reset_timeout_ms;
    assert.deepEqual([mode, fallback, listen?.port, hosts, budget], ['enforce', 'embedded', 9464, [], 10000]);
  });

  it('loads the shipped config/phishx.ini without error and with the documented defaults', () => {
    const c = loadConfigFromDir(REPO, noEnv);
    assert.equal(c.main.scan_budget_ms, 10000);
    assert.equal(c.redis.url, '');
    assert.equal(c.quarantine.ttl_days, 30);
  });

  it('names the section, key and bad value of an invalid number', () => {
    const e = configError(() => buildConfig({ thresholds: { reject: 'abc' } }, { env: noEnv }));
    assert.equal(e.key, 'thresholds.reject');
    assert.match(e.message, /\[thresholds\] reject = "abc"/);
  });

  it('rejects out-of-range values', () => {
    const e = configError(() => buildConfig({ thresholds: { quarantine: 101 } }, { env: noEnv }));
    assert.match(e.message, /0\.\.100/);
  });

  it('rejects an unknown key, listing the known ones', () => {
    const e = configError(() => buildConfig({ main: { mdoe: 'monitor' } }, { env: noEnv }));
    assert.equal(e.key, 'main.mdoe');
    assert.match(e.message, /known: mode/);
  });

  it('rejects an unknown section', () => {
    configError(() => buildConfig({ tresholds: { reject: 50 } }, { env: noEnv }));
  });

  it('rejects quarantine above reject', () => {
    const e = configError(() => buildConfig({ thresholds: { quarantine: 80, reject: 60 } }, { env: noEnv }));
    assert.match(e.message, /above reject/);
  });

  it("rejects a scan budget at or above Haraka's plugin timeout", () => {
    const e = configError(() => buildConfig({ main: { scan_budget_ms: 30000 } }, { env: noEnv, pluginTimeoutSeconds: 30 }));
    assert.equal(e.key, 'main.scan_budget_ms');
    assert.match(e.message, /plugin timeout/);
  });

  it("rejects a scan budget whose watchdog (budget + 1 s) would reach Haraka's plugin timeout, and accepts one that leaves room", () => {
    const e = configError(() => buildConfig({ main: { scan_budget_ms: 29500 } }, { env: noEnv, pluginTimeoutSeconds: 30 }));
    assert.equal(e.key, 'main.scan_budget_ms');
    assert.match(e.message, /plus the hook watchdog's 1000 ms must stay below Haraka's plugin timeout .* at most 28999/);
    assert.equal(buildConfig({ main: { scan_budget_ms: 28999 } }, { env: noEnv, pluginTimeoutSeconds: 30 }).main.scan_budget_ms, 28999);
  });

  it('applies environment overrides PHISHX_MODE, PHISHX_REDIS_URL, PHISHX_SIDECAR_LISTEN', () => {
    const c = buildConfig(
      { main: { mode: 'enforce' } },
      { env: { PHISHX_MODE: 'monitor', PHISHX_REDIS_URL: 'redis://10.0.0.5:6379/2', PHISHX_SIDECAR_LISTEN: '0.0.0.0:9000' } },
    );
    assert.equal(c.main.mode, 'monitor');
    assert.equal(c.redis.url, 'redis://10.0.0.5:6379/2');
    assert.deepEqual(c.sidecar.listen, { host: '0.0.0.0', port: 9000 });
    assert.equal(buildConfig({}, { env: { PHISHX_SIDECAR_LISTEN: 'off' } }).sidecar.listen, null);
  });

  it('names the environment variable when an override is invalid', () => {
    const e = configError(() => buildConfig({}, { env: { PHISHX_MODE: 'loud' } }));
    assert.match(e.message, /PHISHX_MODE/);
    assert.match(e.message, /enforce, monitor/);
  });

  it('reads tenant sections keyed by recipient domain, inheriting unset keys', () => {
    const c = buildConfig({ thresholds: { quarantine: 40, reject: 70 }, 'tenant.Example.COM': { mode: 'monitor', reject: 60 } }, { env: noEnv });
    assert.deepEqual(c.tenants['example.com'], { mode: 'monitor', quarantine: 40, reject: 60 });
  });

  it('rejects a tenant whose own thresholds cross', () => {
    configError(() => buildConfig({ 'tenant.example.com': { quarantine: 90 } }, { env: noEnv }));
  });

  it('validates allowlist IPs and CIDRs', () => {
    assert.deepEqual(buildConfig({ allowlist: { ips: '192.0.2.1, 10.0.0.0/8 ::1' } }, { env: noEnv }).allowlist.ips, ['192.0.2.1', '10.0.0.0/8', '::1']);
    const e = configError(() => buildConfig({ allowlist: { ips: '10.0.0.0/99' } }, { env: noEnv }));
    assert.match(e.message, /10\.0\.0\.0\/99/);
    // A long bad item is clipped like any shown value (the config fuzzer found one quoted whole: 5 KB).
    const long = configError(() => buildConfig({ allowlist: { ips: `192.0.2.1 ${'x'.repeat(5000)}` } }, { env: noEnv }));
    assert.match(long.message, /bad item "x{60}…"/);
    assert.ok(long.message.length < 300, `${long.message.length} characters`);
  });

  it('takes [weights] overrides for known reason codes only', () => {
    assert.equal(buildConfig({ weights: { URL_SHORTENER: 0 } }, { env: noEnv }).weights.URL_SHORTENER, 0);
    configError(() => buildConfig({ weights: { NOT_A_CODE: 5 } }, { env: noEnv }));
  });

  it('replaces the brand list when [brands] is given', () => {
    const c = buildConfig({ brands: { acme: 'acme.example, acme-mail.example' } }, { env: noEnv });
    assert.deepEqual(Object.keys(c.brands), ['acme']);
    assert.deepEqual(c.brands.acme, ['acme.example', 'acme-mail.example']);
  });

  it('resolves relative directories against the Haraka directory', () => {
    const c = buildConfig({}, { env: noEnv, baseDir: '/srv/haraka' });
    assert.equal(c.local_delivery.dir, '/srv/haraka/var/mail');
    assert.equal(c.quarantine.spool_dir, '/srv/haraka/var/quarantine');
  });

  it("reads ini files with Haraka's own parser", () => {
    const raw = readIniFile(REPO);
    assert.equal(raw.main?.mode, 'enforce');
  });
});

describe('host:port (the one parser of addresses)', () => {
  it('reads host:port and [IPv6]:port, and nothing else', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:2525'), { host: '127.0.0.1', port: 2525 });
    assert.deepEqual(parseHostPort(' mail.example.org:25 '), { host: 'mail.example.org', port: 25 });
    assert.deepEqual(parseHostPort('[::1]:9464'), { host: '::1', port: 9464 });
    for (const bad of ['127.0.0.1', ':25', 'host:65536', 'host:port', '::1:25', '[::1]', 'a b:25', '']) assert.equal(parseHostPort(bad), null, bad);
  });
});

describe('phishx.ini lines', () => {
  it('accepts sections, comments, blank lines, key = value and continued lines; names the file and line of anything else', () => {
    assert.doesNotThrow(() => checkIniLines('; comment\n# also\n\n[main]\nmode = monitor\n[urls]\nshorteners = bit.ly, \\\n  t.co\n', '/x/phishx.ini'));
    const e = configError(() => checkIniLines('[main]\nmode = enforce\n\nscan_budget_ms 5000\n', '/x/phishx.ini'));
    assert.match(e.message, /^\/x\/phishx\.ini line 4: "scan_budget_ms 5000" is not `key = value`/);
    assert.match(configError(() => checkIniLines('[main]\nenabled\n', 'f')).message, /^f line 2: "enabled"/);
  });

  it('tells an emptied file (refused on reload) from a file of comments (the defaults, chosen)', () => {
    assert.equal(isEmptyIni(''), true);
    assert.equal(isEmptyIni(' \n\t\n'), true);
    assert.equal(isEmptyIni('; defaults on purpose\n'), false);
  });
});
