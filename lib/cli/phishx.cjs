#!/usr/bin/env node
'use strict';
// `phishx` command (package.json "bin"). The CLI is TypeScript compiled to dist/ by
// `npm install` (prepare); if dist/ is missing, say how to build it instead of a stack trace.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('phishx: not built yet. Run `npm install` (or `npm run build`) in the PhishX directory first.\n');
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`phishx: ${err && err.message ? err.message : err}\n`);
      process.exitCode = 1;
    },
  );
