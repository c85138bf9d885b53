#!/usr/bin/env node
'use strict';
// `npm run build` and `prepare`: compile the TypeScript into dist/ without a moment (beyond
// two renames) where dist/ is missing or half written. npm runs `prepare` whenever it packs
// this directory — also the first time `npx phishx …` runs in the repository (npm 11 installs
// the local package into its npx cache to link its bin) — and a Haraka started with `npm
// start` in the same directory loads scan and sidecar threads from dist/ while it runs:
// `rm -rf dist && tsc` left it without them for the ~8 s of the compile. Here tsc writes
// dist.next/, which then replaces dist/ (so files of deleted sources do not linger either).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const next = path.join(root, 'dist.next');
const prev = path.join(root, 'dist.prev');
const rm = (dir) => fs.rmSync(dir, { recursive: true, force: true });

rm(next);
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const r = spawnSync(process.execPath, [tsc, '-p', root, '--outDir', next], { stdio: 'inherit' });
if (r.status !== 0) {
  rm(next);
  process.exit(r.status ?? 1);
}
rm(prev);
if (fs.existsSync(dist)) fs.renameSync(dist, prev);
fs.renameSync(next, dist);
rm(prev);
