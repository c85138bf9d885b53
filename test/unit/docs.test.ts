import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/haraka.js';
import { SCHEMA } from '../../lib/config/schema.js';

const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const cli = (args: string[]): string => spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args], { cwd: REPO, encoding: 'utf8' }).stdout;

function block(name: string): string {
  const m = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(readme);
  assert.ok(m, `README has no ${name} block`);
  return m[1];
}

describe('README stays true', () => {
  it('carries the generated configuration reference, documenting every key with its default', () => {
    assert.equal(block('config-reference'), cli(['config', '--reference']).trimEnd());
    for (const [section, keys] of Object.entries(SCHEMA)) for (const key of Object.keys(keys)) assert.match(readme, new RegExp(`\\| \`\\[${section}\\]\` \\| \`${key}\` \\|`));
  });

  it('carries the generated reason-code table', () => {
    assert.equal(block('reasons'), cli(['reasons', '--markdown']).trimEnd());
  });

  it('carries the generated metric table', () => {
    assert.equal(block('metrics'), cli(['metrics', '--markdown']).trimEnd());
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
