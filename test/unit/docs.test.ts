import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/haraka.js';
import { SCHEMA } from '../../lib/config/schema.js';

const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const doc = (name: string): string => readFileSync(path.join(REPO, 'docs', name), 'utf8');
const cli = (args: string[]): string =>
  spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args], { cwd: REPO, encoding: 'utf8' }).stdout;

function block(text: string, name: string): string {
  const m = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(text);
  assert.ok(m, `no ${name} block`);
  return m[1];
}

describe('docs stay true', () => {
  it('docs/configuration.md carries the generated configuration reference, documenting every key with its default', () => {
    const text = doc('configuration.md');
    assert.equal(block(text, 'config-reference'), cli(['config', '--reference']).trimEnd());
    for (const [section, keys] of Object.entries(SCHEMA))
      for (const key of Object.keys(keys)) assert.match(text, new RegExp(`\\| \`\\[${section}\\]\` \\| \`${key}\` \\|`));
  });

  it('docs/detection.md carries the generated reason-code table', () => {
    assert.equal(block(doc('detection.md'), 'reasons'), cli(['reasons', '--markdown']).trimEnd());
  });

  it('docs/operations.md carries the generated metric table', () => {
    assert.equal(block(doc('operations.md'), 'metrics'), cli(['metrics', '--markdown']).trimEnd());
  });

  it('the README is the first screen: short, and every document it indexes exists', () => {
    assert.ok(readme.split('\n').length < 250, `README has ${readme.split('\n').length} lines`);
    const linked = [...readme.matchAll(/\]\((docs\/[a-z-]+\.md)\)/g)].map((m) => m[1]);
    assert.ok(linked.length >= 6, linked.join());
    for (const f of linked) assert.ok(readFileSync(path.join(REPO, f), 'utf8').startsWith('# '), f);
  });

  it('shows the install, start and test commands', () => {
    for (const cmd of ['npm install', 'npm start', 'npm test', 'curl 127.0.0.1:9464/alive']) assert.ok(readme.includes(cmd), cmd);
  });

  it('the shipped config/phishx.ini mentions only documented keys', () => {
    const ini = readFileSync(path.join(REPO, 'config', 'phishx.ini'), 'utf8');
    let section = '';
    for (const line of ini.split('\n')) {
      const s = /^;?\s*\[([^\]]+)\]/.exec(line);
      if (s) section = s[1];
      const k = /^;?\s*([a-z_]+)\s*=/.exec(line);
      if (k && section in SCHEMA) assert.ok(k[1] in SCHEMA[section], `[${section}] ${k[1]} is not a documented key`);
    }
  });
});
