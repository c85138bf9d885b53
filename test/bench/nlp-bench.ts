/**
 * Text-classifier inference time per message (median and p99 over the corpus when present,
 * else generated text). Printed by `npm run bench`; the target is a median of at most 1 ms.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { embeddedModel } from '../../lib/nlp/model.js';
import { classifierText } from '../../lib/nlp/text.js';
import { REPO } from '../helpers/haraka.js';

async function main(): Promise<void> {
  const corpus = path.join(REPO, '..', 'shared', 'corpus');
  let texts: string[];
  if (existsSync(path.join(corpus, 'labels.csv'))) {
    const limits = buildConfig({}, { env: {} }).limits;
    const rows = readFileSync(path.join(corpus, 'labels.csv'), 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .filter((_, i) => i % 3 === 0);
    texts = [];
    for (const r of rows)
      texts.push(classifierText(await extractScanInput(readFileSync(path.join(corpus, r.split(',')[0])), { mailFrom: '', rcptTo: [] }, limits)));
  } else {
    texts = Array.from({ length: 500 }, (_, i) => `Invoice ${i}\n${'Please find the invoice attached and confirm the payment details. '.repeat(1 + (i % 40))}`);
  }
  const model = embeddedModel();
  for (const t of texts.slice(0, 200)) model.classify(t);
  const times: number[] = [];
  for (const t of texts) {
    const t0 = performance.now();
    model.classify(t);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mean = texts.reduce((a, t) => a + t.length, 0) / texts.length;
  process.stdout.write(
    `text classifier: ${texts.length} texts (mean ${Math.round(mean)} chars): median ${times[Math.floor(times.length / 2)].toFixed(3)} ms, p99 ${times[Math.floor(times.length * 0.99)].toFixed(3)} ms per message (goal: median <= 1 ms)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`nlp bench failed: ${String(err)}\n`);
  process.exitCode = 1;
});
