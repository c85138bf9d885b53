import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/haraka.js';
import { headerFromAddress } from '../../lib/cli/command.js';

const BIN = path.join(REPO, 'lib', 'cli', 'phishx.cjs');

function phishx(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PHISHX_')));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...clean, ...env }, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('phishx send: the envelope sender it takes from the message', () => {
  const from = (value: string): string => headerFromAddress(Buffer.from(`From: ${value}\r\nSubject: x\r\n\r\nbody\r\n`));
  it('takes an address an SMTP server accepts at MAIL FROM, nothing else', () => {
    assert.equal(from('Alice <alice@mail.example.com>'), 'alice@mail.example.com');
    assert.equal(from('bob@example.org'), 'bob@example.org');
    for (const bad of ['Team <noreply@𝐚𝐨𝐤.𝐝𝐞>', 'T <x@%correios.com>', 'T <team@{nutella.de}>', 'T <x@localhost>', 'T <x@-a.com>', 'nobody', ''])
      assert.equal(from(bad), '', bad);
  });
});

describe('phishx CLI', () => {
  it('scan prints the verdict of a phishing message as JSON', () => {
    const r = phishx(['scan', 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml']);
    assert.equal(r.code, 0, r.err);
    const v = JSON.parse(r.out) as { action: string; score: number; reasons: Array<{ code: string }>; id: string };
    assert.equal(v.action, 'reject');
    assert.ok(v.score >= 70);
    assert.ok(v.reasons.some((x) => x.code === 'URL_TEXT_HREF_BRAND_MISMATCH'));
    assert.match(v.id, /^[0-9a-f]{16}$/);
  });

  it('scan holds the README quarantine example (a bank lure whose link shows one site and goes to another) for review', () => {
    const r = phishx(['scan', 'test/fixtures/corpus-phish-fulton-063b1126c9dc4030.eml']);
    assert.equal(r.code, 0, r.err);
    const v = JSON.parse(r.out) as { action: string; score: number; reasons: Array<{ code: string }> };
    assert.equal(v.action, 'quarantine', `score ${v.score}`);
    assert.ok(v.reasons.some((x) => x.code === 'URL_TEXT_HREF_MISMATCH'));
  });

  it('scan allows a legitimate mailing-list message', () => {
    const r = phishx(['scan', 'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml']);
    assert.equal(JSON.parse(r.out).action, 'allow');
  });

  it('scan of several files prints one JSON object per line', () => {
    const r = phishx(['scan', 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml', 'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml']);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).action),
      ['reject', 'allow'],
    );
  });

  it('scan of a mailbox file (mbox) judges each of its messages, FILE#1, FILE#2 — not one merged message', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-mbox-'));
    try {
      const fixture = (name: string): Promise<Buffer> => readFile(path.join(REPO, 'test', 'fixtures', name));
      const mbox = path.join(dir, 'Inbox.mbox');
      const ham = await fixture('corpus-ham-jailhouse-1df0fc9ae7968327.eml');
      const phish = await fixture('corpus-phish-amazon-0f7adde91ff4631a.eml');
      await writeFile(
        mbox,
        Buffer.concat([Buffer.from('From jan@example.org Thu Jan  1 00:00:00 2026\n'), ham, Buffer.from('\n\nFrom - Fri Jan  2 00:00:00 2026\n'), phish]),
      );
      const r = phishx(['scan', mbox]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(
        r.out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { file: string; action: string })
          .map((v) => [v.file, v.action]),
        [
          [`${mbox}#1`, 'allow'],
          [`${mbox}#2`, 'reject'],
        ],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('scan honours PHISHX_MODE=monitor like the plugin', () => {
    const r = phishx(['scan', 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml'], { PHISHX_MODE: 'monitor' });
    const v = JSON.parse(r.out);
    assert.equal(v.action, 'allow');
    assert.equal(v.would_action, 'reject');
  });

  it('scan exits 1 with a clear message for a missing file', () => {
    const r = phishx(['scan', 'no/such/file.eml']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read no\/such\/file\.eml/);
  });

  it('every command has --help and exits 0 with it', () => {
    for (const cmd of ['scan', 'send', 'eval', 'train', 'nlp-serve', 'feeds', 'config', 'reasons', 'metrics', 'token']) {
      const r = phishx([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.out, new RegExp(`Usage: phishx ${cmd}`));
    }
    assert.equal(phishx(['--help']).code, 0);
  });

  it('exits 2 on an unknown command, an unknown option or a missing argument', () => {
    const unknown = phishx(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "frobnicate"/);
    const badOpt = phishx(['scan', '--frob', 'x.eml']);
    assert.equal(badOpt.code, 2);
    assert.match(badOpt.err, /Unknown option '--frob'/);
    const none = phishx(['scan']);
    assert.equal(none.code, 2);
    assert.match(none.err, /no FILE given/);
    // The command is named once ("phishx eval: give …", not "phishx eval: eval: give …").
    const noDir = phishx(['eval']);
    assert.equal(noDir.code, 2);
    assert.match(noDir.err, /^phishx eval: give exactly one corpus DIR/);
    assert.equal(phishx([]).code, 2);
  });

  it('the SMTP bench exits 2 with one line and its usage on a bad argument (no stack)', () => {
    for (const [args, msg] of [
      [['--sizes', 'bogus'], /--sizes: "bogus" is not one of the accepted values/],
      [['--frob'], /Unknown option '--frob'/],
      [['--nodes', '0'], /--nodes must be a positive integer/],
      [['--paced', 'fast'], /--paced must be a rate in messages per second/],
      [['--warm-up', 'long'], /--warm-up must be a number of messages/],
      [['--flood', '0'], /--flood must be a number of sessions/],
      [['--env', 'PHISHX_NO_SUCH_SETTING=1'], /--env: "PHISHX_NO_SUCH_SETTING=1" is not NAME=VALUE with NAME a PhishX setting/],
      [['--env', 'PHISHX_SCAN_THREADS'], /--env: "PHISHX_SCAN_THREADS" is not NAME=VALUE/],
      [['--env', 'PHISHX_SCAN_THREADS=many'], /--env: .*scan_threads = "many": expected an integer/],
      [['--env', 'PHISHX_SCAN_THREADS=2', '--flood', '10'], /--env applies to the throughput, paced and soak runs, not to --flood/],
    ] as const) {
      const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'test', 'bench', 'smtp-bench.js'), ...args], { cwd: REPO, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /Usage: npm run bench/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('config exits 1 naming the bad key and value', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-cli-'));
    try {
      await mkdir(path.join(dir, 'config'));
      await writeFile(path.join(dir, 'config', 'phishx.ini'), '[thresholds]\nreject = lots\n');
      const r = phishx(['config', '--dir', dir]);
      assert.equal(r.code, 1);
      assert.match(r.err, /\[thresholds\] reject = "lots": expected an integer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('config prints the effective config as JSON', () => {
    const r = phishx(['config'], { PHISHX_MODE: 'monitor' });
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).main.mode, 'monitor');
  });

  it('token new prints a token whose hash it prints for the config; token hash agrees; bad use exits 2', () => {
    const r = phishx(['token', 'new']);
    assert.equal(r.code, 0, r.err);
    const token = /^token: (phx_[\w-]{40,})$/m.exec(r.out)?.[1];
    const hash = /^token_hashes = (sha256:[0-9a-f]{64})$/m.exec(r.out)?.[1];
    assert.ok(token && hash, r.out);
    assert.equal(phishx(['token', 'hash', token]).out.trim(), hash);
    assert.equal(phishx(['token']).code, 2);
    assert.equal(phishx(['token', 'hash', 'short']).code, 2);
  });

  it('metrics --markdown lists every metric family, at least 40', () => {
    const r = phishx(['metrics', '--markdown']);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.split('\n').filter((l) => l.startsWith('| `phishx_'));
    assert.ok(rows.length >= 40, `${rows.length} families`);
    assert.match(r.out, /\| `phishx_messages_scanned_total` \| counter \| `action`, `tenant` \|/);
  });

  it('reasons --markdown lists every reason code', () => {
    const r = phishx(['reasons', '--markdown']);
    assert.match(r.out, /\| `URL_TEXT_HREF_MISMATCH` \| 15 \|/);
    assert.match(r.out, /\| `SKIP_RELAYING` \| 0 \|/);
  });

  it('eval prints per-label and per-source counts, recall and FPR as JSON', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-eval-'));
    try {
      await writeFile(path.join(dir, 'labels.csv'), 'path,label,source\r\nphish.eml,phish,nazario\r\nham.eml,ham,lore\r\n');
      await writeFile(
        path.join(dir, 'phish.eml'),
        await import('node:fs/promises').then((f) => f.readFile(path.join(REPO, 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml'))),
      );
      await writeFile(
        path.join(dir, 'ham.eml'),
        await import('node:fs/promises').then((f) => f.readFile(path.join(REPO, 'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml'))),
      );
      const details = path.join(dir, 'details.jsonl');
      const r = phishx(['eval', '--sweep', '--details', details, dir]);
      assert.equal(r.code, 0, r.err);
      const lines = (await import('node:fs/promises').then((f) => f.readFile(details, 'utf8')))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        lines.map((l) => [l.path, l.label, l.wrong]),
        [
          ['phish.eml', 'phish', false],
          ['ham.eml', 'ham', false],
        ],
      );
      assert.equal(lines[0].action, 'reject');
      assert.ok(
        lines[0].reasons.some((x: { code: string }) => x.code === 'URL_IP_LITERAL' || x.code === 'NLP_PHISH'),
        JSON.stringify(lines[0].reasons),
      );
      const rep = JSON.parse(r.out);
      assert.deepEqual(rep.labels.phish, { n: 1, flagged: 1, rejected: 1 });
      assert.deepEqual(rep.labels.ham, { n: 1, flagged: 0, rejected: 0 });
      assert.deepEqual(rep.sources.nazario, { label: 'phish', n: 1, flagged: 1, rejected: 1 });
      assert.equal(rep.phish_recall, 1);
      assert.equal(rep.ham_fpr, 0);
      assert.ok(rep.messages_per_second > 0);
      assert.equal(rep.sweep.length, 20);
      assert.match(r.err, /eval: 2\/2/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('eval --loso scores each source with a model trained on the others; --cv and --loso exclude each other', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-loso-'));
    try {
      const fs = await import('node:fs/promises');
      const phish = await fs.readFile(path.join(REPO, 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml'));
      const ham = await fs.readFile(path.join(REPO, 'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml'));
      const rows = ['path,label,source'];
      for (let i = 0; i < 4; i++) {
        await writeFile(path.join(dir, `p${i}.eml`), phish);
        await writeFile(path.join(dir, `h${i}.eml`), ham);
        rows.push(`p${i}.eml,phish,${i < 2 ? 'a' : 'b'}`, `h${i}.eml,ham,${i < 2 ? 'a' : 'b'}`);
      }
      await writeFile(path.join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
      const r = phishx(['eval', '--loso', dir]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /leave-one-source-out/);
      const rep = JSON.parse(r.out);
      assert.deepEqual(Object.keys(rep.sources).sort(), ['a', 'b']);
      assert.equal(rep.labels.phish.n, 4);
      const both = phishx(['eval', '--loso', '--cv', '2', dir]);
      assert.equal(both.code, 2);
      assert.match(both.err, /either --cv K or --loso/);
      // Without the fortune packages the held-out models train on the corpus alone, and say so.
      const bare = phishx(['eval', '--loso', dir], { PHISHX_FORTUNES_DIR: path.join(dir, 'no-fortunes') });
      assert.equal(bare.code, 0, bare.err);
      assert.match(bare.err, /apt-get install fortunes fortunes-de fortunes-br fortunes-es fortunes-it.*corpus alone/);
      // train needs them (the committed model's recipe) unless told --corpus-only.
      const strict = phishx(['train', '--corpus', dir, '--out', path.join(dir, 'm.json')], { PHISHX_FORTUNES_DIR: path.join(dir, 'no-fortunes') });
      assert.equal(strict.code, 1);
      assert.match(strict.err, /phishx train: training needs everyday text .*apt-get install fortunes/);
      const only = phishx(['train', '--corpus-only', '--corpus', dir, '--out', path.join(dir, 'm.json')], {
        PHISHX_FORTUNES_DIR: path.join(dir, 'no-fortunes'),
      });
      assert.equal(only.code, 0, only.err);
      assert.ok(JSON.parse(await fs.readFile(path.join(dir, 'm.json'), 'utf8')).weights);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('eval exits 2 without a DIR and 1 when labels.csv is missing', () => {
    assert.equal(phishx(['eval']).code, 2);
    const r = phishx(['eval', os.tmpdir() + '/no-such-corpus']);
    assert.equal(r.code, 1);
    assert.match(r.err, /labels\.csv/);
  });
});

describe('training and evaluating on several corpora', () => {
  it('eval --with adds training data to held-out models only (refused without --cv / --loso), and train --corpus takes several', async () => {
    const refused = phishx(['eval', 'test/fixtures', '--with', 'test/fixtures']);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--with goes with --cv or --loso/);
    // Two tiny corpora: the model is trained on both, the second's ids prefixed with its name.
    const root = await mkdtemp(path.join(os.tmpdir(), 'phishx-corpora-'));
    try {
      const { copyFile } = await import('node:fs/promises');
      for (const name of ['one', 'two']) {
        await mkdir(path.join(root, name, 'ham'), { recursive: true });
        await mkdir(path.join(root, name, 'phish'), { recursive: true });
        await copyFile(path.join(REPO, 'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml'), path.join(root, name, 'ham', 'a.eml'));
        await copyFile(path.join(REPO, 'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml'), path.join(root, name, 'phish', 'b.eml'));
        await writeFile(path.join(root, name, 'labels.csv'), 'path,label,source\nham/a.eml,ham,s1\nphish/b.eml,phish,s2\n');
      }
      const { loadCorpora } = await import('../../lib/nlp/train.js');
      const ex = await loadCorpora([path.join(root, 'one'), path.join(root, 'two')]);
      assert.deepEqual(
        ex.map((e) => e.file),
        ['ham/a.eml', 'phish/b.eml', 'two/ham/a.eml', 'two/phish/b.eml'],
      );
      const out = path.join(root, 'model', 'text-model.json');
      const r = phishx(['train', '--corpus-only', '--corpus', path.join(root, 'one'), '--corpus', path.join(root, 'two'), '--out', out, '--epochs', '2']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /train: 4 messages \{"ham":2,"phish":2\}/);
      const { readFile } = await import('node:fs/promises');
      assert.equal((JSON.parse(await readFile(out, 'utf8')) as { training: { corpus: string } }).training.corpus, 'one, two');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
