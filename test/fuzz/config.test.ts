import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfigFromDir } from '../../lib/config/load.js';
import { envName, SCHEMA, TENANT_SCHEMA, WEBHOOK_SCHEMA, type KeySpec } from '../../lib/config/schema.js';
import { ConfigError } from '../../lib/errors.js';
import { check, runs, SEED } from './settings.js';

/**
 * The config boundary under generated input (`npm test`: a bounded run with a fixed seed;
 * `npm run fuzz`: ≥ 3,000). An administrator's phishx.ini and PHISHX_* variables — known
 * sections and keys with hostile values, unknown ones, broken lines, continuation
 * backslashes, NULs, huge values — are read the way the plugin reads them (Haraka's ini
 * reader, then the schema). Properties: the result is a config whose every known key has
 * its declared type and range, or a ConfigError (code PHISHX_CONFIG_INVALID) with one short
 * line naming what is wrong; never another exception.
 */
// haraka-config caches a file it has read (and refreshes it when its watcher fires, later):
// every generated file must be read afresh.
process.env.WITHOUT_CONFIG_CACHE = '1';
const dir = mkdtempSync(path.join(tmpdir(), 'phishx-config-fuzz-'));
mkdirSync(path.join(dir, 'config'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECTIONS: Record<string, Record<string, KeySpec>> = {
  ...SCHEMA,
  'tenant.example.org': TENANT_SCHEMA,
  'webhook.soc': WEBHOOK_SCHEMA,
};

/** A value as an administrator (or a broken template) might write it for a key of this spec. */
function valueFor(spec: KeySpec | undefined): fc.Arbitrary<string> {
  const hostile = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '-1',
      '0',
      '1e309',
      'NaN',
      'Infinity',
      '0x10',
      '1_000',
      '١٢',
      'true',
      'yes',
      'off',
      'null',
      '[]',
      '{}',
      '""',
      "'",
      '\\',
      ';x',
      '#x',
    ),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: -1e12, max: 1e12 }).map(String),
    fc.double({ noNaN: false }).map(String),
    fc.constantFrom(
      'x'.repeat(5000),
      '1,'.repeat(2000),
      'a, b, , c,,',
      '10.0.0.0/33, ::/129, 1.2.3.4/8, fe80::1%eth0/64',
      '127.0.0.1:99999',
      '[::1]:25',
      'redis://:pw@h:1/0',
    ),
  );
  if (!spec) return hostile;
  const plausible =
    spec.type === 'int'
      ? fc.integer({ min: (spec.min ?? 0) - 2, max: Math.min((spec.max ?? 1e6) + 2, 2 ** 40) }).map(String)
      : spec.type === 'bool'
        ? fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'no', 'maybe')
        : spec.type === 'enum'
          ? fc.oneof(fc.constantFrom(...(spec.values ?? ['x'])), fc.constantFrom('', 'Quarantine', 'deliver'))
          : fc.constant(String(spec.default));
  return fc.oneof({ weight: 12, arbitrary: plausible }, { weight: 1, arbitrary: hostile });
}

/** One line of phishx.ini. */
const line = (section: string): fc.Arbitrary<string> => {
  const specs = SECTIONS[section] ?? {};
  const keys = Object.keys(specs);
  const known = keys.length ? fc.constantFrom(...keys).chain((k) => valueFor(specs[k]).map((v) => `${k} = ${v}`)) : valueFor(undefined).map((v) => `x = ${v}`);
  return fc.oneof(
    { weight: 40, arbitrary: known },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), valueFor(undefined)).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: fc.constantFrom('garbage line', '=', ' = x', '[', ']', '; comment', '# comment', 'key = a \\', '\0', '\ufeff[main]') },
  );
};

const section = fc
  .oneof(
    { weight: 30, arbitrary: fc.constantFrom(...Object.keys(SECTIONS)) },
    { weight: 1, arbitrary: fc.constantFrom('nope', 'tenant.', 'webhook.', 'tenant.EXAMPLE.org', 'brands', 'weights', 'main ') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  )
  .chain((name) => fc.array(line(name), { maxLength: 4 }).map((lines) => [`[${name}]`, ...lines].join('\n')));

const iniText = fc.array(section, { maxLength: 4 }).map((s) => s.join('\n'));

/** PHISHX_* overrides: known names with values of their key's kind, and a few stray ones. */
const envVars = fc
  .array(
    fc.oneof(
      fc
        .constantFrom(...Object.entries(SCHEMA).flatMap(([s, specs]) => Object.keys(specs).map((k) => [s, k] as const)))
        .chain(([s, k]) => valueFor(SCHEMA[s][k]).map((v) => [envName(s, k), v] as const)),
      fc.tuple(fc.constantFrom('PHISHX_', 'PHISHX_NOPE', 'PHISHX_WEBHOOK_URL', 'PHISHX_WEBHOOK_SECRET', 'PHISHX_API_TOKEN'), valueFor(undefined)),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => Object.fromEntries(pairs.map(([k, v]) => [k, v.replace(/\0/g, '')])));

/** Every known key of the result has its declared type and range. */
function assertWellFormed(config: Record<string, unknown>): void {
  for (const [s, specs] of Object.entries(SCHEMA)) {
    const got = config[s] as Record<string, unknown>;
    assert.ok(got && typeof got === 'object', `[${s}] missing`);
    for (const [k, spec] of Object.entries(specs)) {
      const v = got[k];
      const where = `[${s}] ${k} = ${JSON.stringify(v)?.slice(0, 80)}`;
      if (spec.type === 'int') {
        assert.ok(Number.isSafeInteger(v), where);
        if (spec.min !== undefined) assert.ok((v as number) >= spec.min, where);
        if (spec.max !== undefined) assert.ok((v as number) <= spec.max, where);
      } else if (spec.type === 'bool') assert.equal(typeof v, 'boolean', where);
      else if (spec.type === 'enum') assert.ok(spec.values?.includes(v as string), where);
      else if (spec.type === 'string') assert.equal(typeof v, 'string', where);
      else if (spec.type === 'list' || spec.type === 'strings' || spec.type === 'cidrs') assert.ok(Array.isArray(v), where);
    }
  }
}

describe(`config fuzzing through loadConfigFromDir (seed ${SEED})`, () => {
  it('reads any phishx.ini and PHISHX_* variables into a well-formed config or one clear ConfigError, never another exception', async () => {
    let accepted = 0;
    let refused = 0;
    const n = await check('config files', fc.tuple(iniText, envVars), runs(400, 3000), ([text, env]) => {
      writeFileSync(path.join(dir, 'config', 'phishx.ini'), text);
      try {
        assertWellFormed(loadConfigFromDir(dir, env));
        accepted++;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)} (${(err as Error).stack?.split('\n')[1]?.trim()})`);
        assert.equal(err.code, 'PHISHX_CONFIG_INVALID');
        assert.ok(err.message.length > 10 && err.message.length < 600, `message length ${err.message.length}: ${err.message.slice(0, 200)}`);
        assert.ok(!/[\n\0]/.test(err.message), `message is not one line: ${JSON.stringify(err.message.slice(0, 200))}`);
        refused++;
        if (process.env.SHOW_REFUSALS) console.log(err.message.slice(0, 150));
      }
      return Promise.resolve();
    });
    assert.equal(n, runs(400, 3000));
    // Both outcomes must occur, or the generator tests only one side.
    assert.ok(accepted > 10 && refused > 10, `${accepted} accepted, ${refused} refused`);
  });
});
