import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newSecret, signHeaders } from '../../lib/webhooks/signing.js';
import { REPO } from '../helpers/haraka.js';

// The verification snippets of docs/webhooks.md, run as published against signed deliveries:
// a good one passes, a changed body, a replayed nonce and a wrong secret are refused.

const doc = readFileSync(path.join(REPO, 'docs', 'webhooks.md'), 'utf8');
function snippet(lang: string): string {
  const m = new RegExp(`<!-- snippet:${lang} -->\\n\`\`\`[a-z]+\\n([\\s\\S]*?)\`\`\`\\n<!-- snippet:end -->`).exec(doc);
  assert.ok(m, `docs/webhooks.md has no ${lang} snippet`);
  return m[1];
}

const have = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

describe('docs/webhooks.md verification snippets', () => {
  const secret = newSecret();
  const body = JSON.stringify({ id: 'evt_doc1', type: 'message.rejected', created_at: new Date().toISOString(), tenant: 'default', data: { score: 91 } });
  const headers = signHeaders({ body, keys: [{ id: 'key_doc', secret }], id: 'evt_doc1' });
  /** Cases every snippet must judge: [name, headers, body, secret, expected outcome]. */
  const cases: Array<[string, Record<string, string>, string, string, string]> = [
    ['good', headers, body, secret, 'ok'],
    ['replayed nonce', headers, body, secret, 'nonce'],
    ['changed body', { ...headers, 'x-phishx-nonce': 'a'.repeat(32) }, body.replace('91', '19'), secret, 'body_hash'],
    ['wrong secret', signHeaders({ body, keys: [{ id: 'k', secret }], id: 'evt_doc1' }), body, newSecret(), 'signature'],
    ['stale', signHeaders({ body, keys: [{ id: 'k', secret }], id: 'evt_doc1', timestamp: Math.floor(Date.now() / 1000) - 3600 }), body, secret, 'timestamp'],
  ];
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-snippets-'));
    await writeFile(path.join(dir, 'cases.json'), JSON.stringify(cases));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const expected = cases.map((c) => c[4]);

  it('Node.js', async () => {
    await writeFile(path.join(dir, 'verify.cjs'), snippet('node'));
    const harness = `
      const cases = require(${JSON.stringify(path.join(dir, 'cases.json'))});
      (async () => {
        const out = [];
        for (const [, h, b, s] of cases) {
          process.env.PHISHX_WEBHOOK_SECRET = s;
          delete require.cache[${JSON.stringify(path.join(dir, 'verify.cjs'))}];
          const { handle } = require(${JSON.stringify(path.join(dir, 'verify.cjs'))});
          try { await handle(h, Buffer.from(b)); out.push('ok'); } catch (e) { out.push(/refused \\((\\w+)\\)/.exec(e.message)?.[1] ?? e.message); }
        }
        console.log(JSON.stringify(out));
      })();`;
    // The snippet requires the package by name: run it where the package resolves (this repo).
    const r = spawnSync(process.execPath, ['-e', harness], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
    });
    assert.equal(r.status, 0, r.stderr);
    // Reloading the module resets its nonce cache: the replay is checked within one module below.
    assert.deepEqual(JSON.parse(r.stdout), ['ok', 'ok', 'body_hash', 'signature', 'timestamp']);
    const replay = spawnSync(
      process.execPath,
      [
        '-e',
        `process.env.PHISHX_WEBHOOK_SECRET=${JSON.stringify(secret)}; const { handle } = require(${JSON.stringify(path.join(dir, 'verify.cjs'))});
         const h = ${JSON.stringify(headers)}; const b = Buffer.from(${JSON.stringify(body)});
         handle(h, b).then(() => handle(h, b)).then(() => console.log('accepted twice'), (e) => console.log(e.message));`,
      ],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') } },
    );
    assert.match(replay.stdout, /refused \(nonce\)/, replay.stderr);
  });

  it('Python (standard library)', async (t) => {
    if (!have('python3', ['--version'])) return t.skip('python3 not installed');
    await writeFile(path.join(dir, 'phishx_verify.py'), snippet('python'));
    const harness = `
import json, sys
sys.path.insert(0, ${JSON.stringify(dir)})
from phishx_verify import verify
out = []
for _, h, b, s, _want in json.load(open(${JSON.stringify(path.join(dir, 'cases.json'))})):
    try:
        verify(h, b.encode(), s)
        out.append("ok")
    except ValueError as e:
        out.append(str(e))
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', harness], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), expected);
  });

  it('Go (standard library)', async (t) => {
    if (!have('go', ['version'])) return t.skip('go not installed (apt-get install golang-go)');
    const mod = path.join(dir, 'gomod');
    await import('node:fs/promises').then((fs) => fs.mkdir(mod, { recursive: true }));
    await writeFile(path.join(mod, 'go.mod'), 'module phishxhook\n\ngo 1.19\n');
    await writeFile(path.join(mod, 'verify.go'), snippet('go'));
    await writeFile(
      path.join(mod, 'verify_test.go'),
      `package phishxhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
)

func TestCases(t *testing.T) {
	raw, _ := os.ReadFile(${JSON.stringify(path.join(dir, 'cases.json'))})
	var cases [][]interface{}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c[1].(map[string]interface{}) {
			h.Set(k, v.(string))
		}
		if err := Verify(h, []byte(c[2].(string)), c[3].(string), 300); err != nil {
			out = append(out, err.Error())
		} else {
			out = append(out, "ok")
		}
	}
	b, _ := json.Marshal(out)
	fmt.Println("RESULT " + string(b))
}
`,
    );
    const r = spawnSync('go', ['test', '-v', '-count=1', '.'], {
      cwd: mod,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOCACHE: path.join(dir, 'gocache'), GOPATH: path.join(dir, 'gopath') },
      timeout: 240_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(/RESULT (.*)/.exec(r.stdout)![1]), expected);
  });
});
