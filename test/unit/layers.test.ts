import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/haraka.js';

// The layering the code relies on, checked on the sources: the config is the bottom layer
// (it imports only leaf modules), and nothing below the scan path imports it.

/** Relative imports of every .ts file under lib/<dir> (recursively), as repo-relative paths. */
function importsOf(dir: string): Array<{ file: string; target: string }> {
  const out: Array<{ file: string; target: string }> = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
          out.push({ file: path.relative(REPO, p), target: path.relative(REPO, path.resolve(path.dirname(p), m[1])).replace(/\.js$/, '.ts') });
        }
      }
    }
  };
  walk(path.join(REPO, 'lib', dir));
  return out;
}

describe('layers', () => {
  const LEAVES = ['lib/errors.ts', 'lib/reasons.ts', 'lib/webhooks/catalog.ts', 'lib/webhooks/signing.ts'];

  it('lib/config imports nothing above it: only its own modules and the leaf modules', () => {
    const bad = importsOf('config').filter((i) => !i.target.startsWith('lib/config/') && !LEAVES.includes(i.target));
    assert.deepEqual(bad, []);
  });

  it('the leaf modules import no other PhishX module (errors.ts aside)', () => {
    const bad = [...importsOf('webhooks'), ...importsOf('.').filter((i) => LEAVES.includes(i.file))].filter(
      (i) => LEAVES.includes(i.file) && i.target !== 'lib/errors.ts',
    );
    assert.deepEqual(bad, []);
  });

  it('lib/verdict, lib/analyzers and lib/message do not import the scan path, the plugin runtime or the sidecar', () => {
    const above = ['lib/scan.ts', 'lib/quarantine.ts', 'lib/events.ts'];
    const bad = ['verdict', 'analyzers', 'message']
      .flatMap(importsOf)
      .filter((i) => above.includes(i.target) || i.target.startsWith('lib/sidecar/') || i.target.startsWith('lib/haraka/') || i.target.startsWith('lib/cli/'));
    assert.deepEqual(bad, []);
  });
});
