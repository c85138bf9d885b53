import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO, spawnHaraka, type HarakaProcess } from '../helpers/haraka.js';
import { freePort } from '../helpers/ports.js';
import { sendRaw } from '../helpers/smtp.js';

// PhishX as a mail administrator installs it: the packed npm tarball installed into a fresh
// Haraka directory (`haraka -i`), `phishx` added to its config/plugins, no phishx.ini of its
// own (the package's defaults apply), Haraka started from that directory.

const run = promisify(execFile);
const HARAKA_BIN = path.join(REPO, 'node_modules', 'Haraka', 'bin', 'haraka');
const env = { from: 'sender@example.com', to: ['bob@example.org'] };

describe('npm package haraka-plugin-phishx in an existing Haraka directory', () => {
  let work = '';
  let site = '';
  let tarball = '';
  let port = 0;
  let haraka: HarakaProcess | undefined;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'phishx-install-'));
    // The build already ran (npm test builds first); --ignore-scripts so packing does not
    // rebuild dist/ under the tests that run beside this one.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
    const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info[0].filename);
    site = path.join(work, 'site');
    await run(process.execPath, [HARAKA_BIN, '-i', site]);
    // The registry's packages, from npm's cache where the repository's own install put them.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], { cwd: site, maxBuffer: 64 * 1024 * 1024 });
    port = await freePort();
    const sidecar = await freePort();
    await writeFile(path.join(site, 'config', 'smtp.ini'), `[main]\nlisten=127.0.0.1:${port}\nnodes=0\n`);
    await writeFile(path.join(site, 'config', 'host_list'), 'example.org\n');
    await writeFile(path.join(site, 'config', 'plugins'), 'rcpt_to.in_host_list\nphishx\nqueue/discard\n');
    haraka = spawnHaraka(site, { YES_REALLY_DO_DISCARD: '1', PHISHX_SIDECAR_LISTEN: `127.0.0.1:${sidecar}` });
    await haraka.ready([port, sidecar], 30_000);
  });

  after(async () => {
    await haraka?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs compiled JavaScript, type declarations, the models, the default phishx.ini and the CLI — no sources or tests', async () => {
    const list = await run('tar', ['tzf', tarball]);
    const files = list.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'package.json',
      'dist/plugins/phishx/index.js',
      'dist/lib/scan.js',
      'dist/lib/scan.d.ts',
      'lib/nlp/model/text-model.json',
      'lib/nlp/model/letter-model.json',
      'config/phishx.ini',
      'lib/cli/phishx.cjs',
      'README.md',
    ]) {
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    }
    assert.ok(
      !files.some((f) => f.startsWith('dist/test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
      files
        .filter((f) => f.startsWith('dist/test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))
        .slice(0, 5)
        .join(', '),
    );
    const pkg = JSON.parse(await readFile(path.join(site, 'node_modules', 'haraka-plugin-phishx', 'package.json'), 'utf8')) as {
      name: string;
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.name, 'haraka-plugin-phishx');
    assert.ok(!('Haraka' in pkg.dependencies), "Haraka is the site's, not a dependency of the plugin");
  });

  it("the site has no phishx.ini: the package's default applies", () => {
    assert.ok(!existsSync(path.join(site, 'config', 'phishx.ini')));
    assert.ok(existsSync(path.join(site, 'node_modules', 'haraka-plugin-phishx', 'config', 'phishx.ini')));
  });

  it('rejects a phishing message with 550 5.7.1', async () => {
    const raw = await readFile(path.join(REPO, 'test', 'fixtures', 'corpus-phish-amazon-0f7adde91ff4631a.eml'));
    const a = await sendRaw(port, raw, env);
    assert.equal(a.code, 550, `${a.response}\n${haraka!.logs().slice(-2000)}`);
    assert.match(a.response, /5\.7\.1/);
  });

  it('accepts legitimate mail with 250', async () => {
    const raw = await readFile(path.join(REPO, 'test', 'fixtures', 'corpus-ham-jailhouse-1df0fc9ae7968327.eml'));
    const a = await sendRaw(port, raw, env);
    assert.equal(a.code, 250, `${a.response}\n${haraka!.logs().slice(-2000)}`);
  });

  it('the phishx command works in the site (npx phishx): validates the effective config', async () => {
    const bin = path.join(site, 'node_modules', '.bin', 'phishx');
    const r = await run(bin, ['config', '--dir', site], { cwd: site });
    const cfg = JSON.parse(r.stdout) as { main: { mode: string }; thresholds: { reject: number } };
    assert.equal(cfg.main.mode, 'enforce');
    assert.equal(cfg.thresholds.reject, 70);
    await assert.rejects(run(bin, ['no-such-command'], { cwd: site }), (err: Error & { code?: number; stderr?: string }) => {
      assert.notEqual(err.code, 0);
      assert.match(String(err.stderr), /no-such-command/);
      return true;
    });
  });
});
