import path from 'node:path';
import PostalMime from 'postal-mime';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfigFromDir } from '../config/load.js';
import { SCHEMA, TENANT_SCHEMA, envName } from '../config/schema.js';
import { errorMessage, TrainingDataError, UsageError } from '../errors.js';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { evaluate, type MessageOutcome } from '../eval.js';
import { trainLetterModel } from '../analyzers/letter-model.js';
import { crossValidationModels, DEFAULT_TRAIN, leaveOneSourceOutModels, loadCorpora, loadExamples, serializeModel, train, type Example } from '../nlp/train.js';
import { defaultModelPath, embeddedModel } from '../nlp/model.js';
import { createNlpServer } from '../nlp/serve.js';
import { DOC_ROOT, FORTUNES_ROOT, languageHamExamples } from '../nlp/language-ham.js';
import { feedName, parseFeed } from '../reputation/feed-dir.js';
import { createReputation } from '../reputation/index.js';
import { writeFileDurable } from '../fs-durable.js';
import { createStore } from '../store/index.js';
import { clamdFor } from '../clamav/client.js';
import { scanMessage } from '../scan.js';
import { sendRaw } from '../smtp-send.js';
import { REASONS } from '../verdict/reasons.js';
import { FAMILY_DOCS } from '../metrics/catalog.js';
import { hashToken, newToken, SCOPES, type Scope } from '../sidecar/auth.js';
import { AUDIT_HELP, cmdAudit, cmdQuarantine, cmdSoc, QUARANTINE_HELP, SOC_HELP } from './review.js';

type Out = { out: (s: string) => void; err: (s: string) => void };
const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

const MAIN_HELP = `Usage: phishx <command> [options]

Commands:
  scan FILE.eml...     scan raw messages with the inline scan path, print verdicts as JSON
  send FILE.eml...     send raw messages over SMTP (default 127.0.0.1:2525) and print the answers
  eval DIR             measure detection on a labelled corpus (DIR/labels.csv), print JSON
  train                train the embedded text classifier (npm run train)
  nlp-serve            serve the embedded classifier over HTTP (Hugging Face inference format)
  feeds import FILE    import a URL / domain blocklist (OpenPhish, PhishTank, URLhaus exports)
  feeds list           list imported feeds
  config               validate config/phishx.ini (+ environment) and print the effective config
  reasons              list reason codes with weights
  metrics              list the Prometheus metric families the sidecar exports
  token new|hash       make an API token for the sidecar, or hash one for [sidecar] token_hashes
  quarantine ...       list, show, release, delete, report held mail (SOC API client)
  soc ...              SOC alerts (one per campaign): list, show, ack, resolve, release-all, block
  audit                print the audit log of review actions
  feedback list|export analysts' reports (phish / not_phish) with their messages, as a
                       labelled corpus for training (phishx train --corpus, phishx eval)
  help [command]       show help for a command

Run "phishx <command> --help" for the options of a command.
`;

const HELP: Record<string, string> = {
  scan: `Usage: phishx scan [options] FILE.eml...

Scan raw RFC 5322 messages exactly as the Haraka plugin does and print one JSON object per
file (one per line with several files). Exit code 0 on success, 1 when a file cannot be read.

Options:
  --dir DIR         Haraka directory whose config/phishx.ini to use (default: .)
  --from ADDR       envelope MAIL FROM (default: the message's From address)
  --to ADDR         envelope RCPT TO, repeatable (default: recipient@example.org)
  --ip ADDR         client IP (default: 192.0.2.1)
  -h, --help        show this help
`,
  config: `Usage: phishx config [options]

Validate config/phishx.ini together with PHISHX_* environment overrides. Prints the
effective config as JSON, or the error naming the bad key and value (exit code 1).

Options:
  --dir DIR         Haraka directory (default: .)
  --reference       print the configuration reference as a Markdown table instead
  -h, --help        show this help
`,
  send: `Usage: phishx send [options] FILE.eml...

Send raw messages unchanged (line endings made CRLF) to an SMTP server, one session per
message, and print each final answer, e.g. "250 ... (PhishX id ...)" or "550 5.7.1 ...".
Exit code 0 when every message got an answer (any code), 1 otherwise.

Options:
  --server HOST:PORT   SMTP server (default: 127.0.0.1:2525)
  --from ADDR          envelope MAIL FROM (default: the address of the message's From
                       header, as the sender's server would use; sender@example.com
                       when it has none)
  --to ADDR            envelope RCPT TO, repeatable (default: recipient@example.org)
  -h, --help           show this help
`,
  eval: `Usage: phishx eval [options] DIR

Scan every message listed in DIR/labels.csv (columns path,label,source; labels phish, ham,
spam …) with the inline scan path and print one JSON object to stdout:
  {"labels": {"phish": {"n","flagged","rejected"}, …}, "sources": {…},
   "phish_recall", "ham_fpr", "messages_per_second"}
flagged = quarantine or reject. Progress goes to stderr (a bar on a terminal).

Options:
  --dir DIR      Haraka directory whose config/phishx.ini to use (default: . ;
                 PHISHX_* environment overrides apply)
  --sweep        add recall and ham FPR for quarantine thresholds 5, 10, … 100
  --cv K         cross-validate the text classifier: train K models on DIR, each message
                 is scored by the model that did not see it (honest figures on DIR)
  --loso         leave-one-source-out: each message is scored by a text model trained on
                 every other source (how it does on a kind of mail it never saw)
  --with DIR     with --cv / --loso: train every held-out model on DIR too (repeatable), as
                 phishx train trains on several corpora (e.g. eval ../shared/corpus-modern
                 --cv 5 --with ../shared/corpus --with ../shared/corpus-lists)
                 (--cv and --loso train as phishx train does, with the everyday text of
                 the fortune packages when installed; without them, on DIR alone)
  --details FILE write one JSON line per message (path, label, source, action, score,
                 reasons, subject, from; "wrong": true for a missed phish or a flagged
                 ham) to FILE, to see what was misjudged and why
  -h, --help     show this help
`,
  train: `Usage: phishx train [options]

Train the embedded text classifier (logistic regression over hashed words and word pairs of
subject + body; list footers, quoted replies and signatures removed) on a labelled corpus,
calibrate its probabilities (Platt scaling on an inner 5-fold cross-validation) and write
the model JSON; also write letter-model.json beside it (letter bigrams of the corpus words,
used by SENDER_RANDOM_LOCALPART). Deterministic: the same corpus and options give the same
bytes.

Besides the corpus, training reads everyday text in six languages as extra ham, from
Debian's fortune packages under /usr/share/games/fortunes and the French Debian FAQ under
/usr/share/doc (apt-get install fortunes fortunes-de fortunes-br fortunes-es fortunes-it
debian-faq-fr; PHISHX_FORTUNES_DIR / PHISHX_DOC_DIR for another place), so that the model
judges content rather than language; eval --cv / --loso train the same way
(without the packages they train on the corpus alone and say so).

Options:
  --corpus DIR   labelled corpus with labels.csv, repeatable: the model is trained on all of
                 them (default: ../shared/corpus, ../shared/corpus-modern, ../shared/corpus-lists)
  --out FILE     model file (default: lib/nlp/model/text-model.json); letter-model.json
                 goes to the same folder
  --epochs N     SGD epochs (default: ${DEFAULT_TRAIN.epochs})
  --seed N       shuffling seed (default: ${DEFAULT_TRAIN.seed})
  --check        train, compare with the files at --out instead of writing them; exit 1
                 when they differ (CI: the committed models are reproducible)
  --corpus-only  train without the everyday-text ham (where the fortune packages cannot
                 be installed; the model then reads non-English text as phishing-like)
  -h, --help     show this help
`,
  'nlp-serve': `Usage: phishx nlp-serve [--listen HOST:PORT]

Serve the embedded text classifier in the Hugging Face text-classification format, so the
NLP-over-HTTP path ([nlp] url) can be tried and tested without a GPU model server:
  POST / {"inputs": "text"} ─► [[{"label":"phishing","score":p},{"label":"legitimate","score":1-p}]]
  GET /health
Runs until interrupted (Ctrl-C).

Options:
  --listen HOST:PORT   address to listen on (default: 127.0.0.1:8501)
  -h, --help           show this help
`,
  feeds: `Usage: phishx feeds import [options] FILE...
       phishx feeds list [--dir DIR]

import: read blocklist exports — one URL or domain per line, "#" comments (the plain
OpenPhish, PhishTank and URLhaus text exports) — and store them as the feed NAME (default:
the file name without extension). A re-import replaces that feed. With [redis] url (or
PHISHX_REDIS_URL) the feed goes into Redis, where every Haraka worker sees it at once;
without Redis it is written to [reputation] feed_dir as NAME.txt, which Haraka loads at
start and re-reads every minute. Links matching a listed URL add URL_FEED_MATCH, links on a
listed domain (or a subdomain of it) DOMAIN_FEED_MATCH.

Options:
  --name NAME    feed name (import with one FILE only)
  --dir DIR      Haraka directory whose config/phishx.ini to use (default: .)
  -h, --help     show this help
`,
  metrics: `Usage: phishx metrics [--markdown]

List every phishx_* metric family served on the sidecar's /metrics: name, type, labels,
meaning. (Process metrics process_* / nodejs_* come from prom-client's defaults.)

Options:
  --markdown        print a Markdown table (as in docs/detection.md)
  -h, --help        show this help
`,
  token: `Usage: phishx token new [--scope read|act|admin] [--tenant DOMAIN]
       phishx token hash TOKEN

new    print a new random API token and the line to put in config/phishx.ini
       ([sidecar] token_hashes = sha256:…[:scope[:tenant]]). Only the hash is stored; give
       the token to the client (e.g. Prometheus bearer_token_file, the SOC console).
hash   print the sha256:… form of an existing token (e.g. one from your secret store).

Scopes: read (lists, previews, metrics summary), act (also release, delete, raw, report),
admin (everything, incl. audit and bulk; the default). --tenant binds the token to one
tenant ([tenant.DOMAIN]): it sees that tenant's held mail only. Several tokens: separate
the token_hashes entries with commas.

Options:
  --scope SCOPE     read, act or admin (default admin)
  --tenant DOMAIN   bind the token to one tenant
  -h, --help        show this help
`,
  feedback: `Usage: phishx feedback list [--dir DIR]
       phishx feedback export --out DIR [--dir DIR]

Analysts' reports (npx phishx quarantine report ID --verdict phish|not_phish, or the API) are
kept with a copy of the reported message, beyond the quarantine's expiry.

list     one line per report: time, id, verdict, who, subject
export   write them in the corpus layout PhishX trains and evaluates on: OUT/phish/<id>.eml and
         OUT/ham/<id>.eml (not_phish) plus OUT/labels.csv (path,label,source; source
         phishx-feedback). An existing OUT/labels.csv is kept and extended; a message reported
         twice is written once, with its latest verdict. Then e.g.:
           npx phishx eval OUT                        # how the shipped model does on them
           npx phishx train --corpus OUT --out ...    # or merge OUT into your training corpus

Options:
  --out DIR      export: the corpus directory (created)
  --dir DIR      Haraka directory whose config/phishx.ini names the store (default: .)
  -h, --help     show this help
`,
  quarantine: QUARANTINE_HELP,
  soc: SOC_HELP,
  audit: AUDIT_HELP,
  reasons: `Usage: phishx reasons [--markdown]

List every reason code with its default weight and meaning.

Options:
  --markdown        print a Markdown table (as in docs/detection.md)
  -h, --help        show this help
`,
};

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, command: string): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${errorMessage(err)}\n\n${HELP[command] ?? MAIN_HELP}`);
  }
}

/** Read each file and hand it to `fn`; an unreadable file is reported and counted, not fatal. Returns the exit code. */
async function forEachFile(command: string, files: string[], io: Out, fn: (file: string, raw: Buffer) => Promise<boolean>): Promise<number> {
  let failed = 0;
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = await readFile(file);
    } catch (err) {
      io.err(`phishx ${command}: cannot read ${file}: ${errorMessage(err)}\n`);
      failed++;
      continue;
    }
    if (!(await fn(file, raw))) failed++;
  }
  return failed ? 1 : 0;
}

/**
 * The address of a raw message's From header ('' when none): the envelope sender `scan` and
 * `send` use unless `--from` is given, as the sender's own server would. (An envelope on
 * another domain than From costs the message its alignment, see `SENDER_LINKS_ALIGNED`.)
 */
function headerFromAddress(raw: Buffer): string {
  const head = raw.subarray(0, 65536).toString('latin1').split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const value = /^From:(.*)$/im.exec(head)?.[1];
  if (!value) return '';
  try {
    const address = PostalMime.addressParser(value, { flatten: true })[0]?.address ?? '';
    return /^[^\s<>@]+@[^\s<>@]+$/.test(address) ? address : '';
  } catch {
    return '';
  }
}

async function cmdScan(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: 'string' }, from: { type: 'string' }, to: { type: 'string', multiple: true }, ip: { type: 'string' } }, 'scan');
  if (values.help) return io.out(HELP.scan), 0;
  if (!positionals.length) throw new UsageError(`scan: no FILE given\n\n${HELP.scan}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const to = Array.isArray(values.to) && values.to.length ? (values.to as string[]) : ['recipient@example.org'];
  const store = createStore(config);
  const reputation = await createReputation(store, config);
  const clamav = clamdFor(config.clamav, config['breaker.clamav']);
  try {
    return await forEachFile('scan', positionals, io, async (file, raw) => {
    const from = typeof values.from === 'string' ? values.from : headerFromAddress(raw);
    const r = await scanMessage(raw, { mailFrom: from, rcptTo: to, remoteIp: String(values.ip ?? '192.0.2.1') }, config, undefined, { reputation: reputation.sources, ...(reputation.expander ? { expander: reputation.expander } : {}), ...(clamav ? { clamav } : {}) });
    const v = r.verdict;
    io.out(`${JSON.stringify({ file, id: r.id, action: v.action, would_action: v.wouldAction, score: v.score, mode: v.mode, tenant: v.tenant, reasons: v.reasons, skipped: r.skipped, ms: Math.round(r.durationMs * 100) / 100, bytes: r.summary.bytes, parts: r.summary.parts, urls: r.summary.urls, attachments: r.summary.attachments }, null, positionals.length === 1 ? 2 : 0)}\n`);
    return true;
    });
  } finally {
    await reputation.close();
    await store.close();
  }
}

async function cmdSend(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { server: { type: 'string' }, from: { type: 'string' }, to: { type: 'string', multiple: true } }, 'send');
  if (values.help) return io.out(HELP.send), 0;
  if (!positionals.length) throw new UsageError(`send: no FILE given\n\n${HELP.send}`);
  const server = String(values.server ?? '127.0.0.1:2525');
  const m = /^(.+):(\d{1,5})$/.exec(server);
  if (!m) throw new UsageError(`send: --server must be HOST:PORT, got ${JSON.stringify(server)}`);
  const to = Array.isArray(values.to) && values.to.length ? (values.to as string[]) : ['recipient@example.org'];
  return forEachFile('send', positionals, io, async (file, raw) => {
    const a = await sendRaw(Number(m[2]), raw, { from: typeof values.from === 'string' ? values.from : headerFromAddress(raw) || 'sender@example.com', to }, { host: m[1] });
    io.out(`${file}: ${a.code || 'no answer'} ${a.response.replace(/^\d{3}\s*/, '')}\n`);
    return a.code !== 0;
  });
}

async function cmdEval(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: 'string' }, sweep: { type: 'boolean' }, cv: { type: 'string' }, loso: { type: 'boolean' }, details: { type: 'string' }, with: { type: 'string', multiple: true } }, 'eval');
  if (values.help) return io.out(HELP.eval), 0;
  if (positionals.length !== 1) throw new UsageError(`eval: give exactly one corpus DIR\n\n${HELP.eval}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  let classifierFor: ((file: string) => ReturnType<typeof train> | undefined) | undefined;
  const withCorpora = ((values.with as string[] | undefined) ?? []).map((d) => path.resolve(d));
  if (withCorpora.length && values.cv === undefined && !values.loso) throw new UsageError('eval: --with goes with --cv or --loso (it adds training data to the held-out models)');
  const withExamples = async (): Promise<Example[]> => (await Promise.all(withCorpora.map((d) => loadExamples(d)))).flatMap((list, i) => list.map((e) => ({ ...e, file: `${path.basename(withCorpora[i])}/${e.file}` })));
  if (values.cv !== undefined) {
    const k = Number(values.cv);
    if (!Number.isInteger(k) || k < 2 || k > 20) throw new UsageError(`eval: --cv must be an integer 2..20, got ${JSON.stringify(values.cv)}`);
    if (values.loso) throw new UsageError('eval: use either --cv K or --loso, not both');
    io.err(`eval: cross-validation, training ${k} models on ${positionals[0]}${withCorpora.length ? ` (each also on ${withCorpora.join(', ')})` : ''}\n`);
    const models = crossValidationModels(await loadExamples(positionals[0]), k, DEFAULT_TRAIN, [...everydayTextForEval(io), ...(await withExamples())]);
    classifierFor = (file) => models.get(file);
  } else if (values.loso) {
    io.err(`eval: leave-one-source-out, training one model per source of ${positionals[0]}\n`);
    const models = leaveOneSourceOutModels(await loadExamples(positionals[0]), DEFAULT_TRAIN, [...everydayTextForEval(io), ...(await withExamples())]);
    classifierFor = (file) => models.get(file);
  }
  const tty = process.stderr.isTTY === true;
  let last = 0;
  const details: string[] = [];
  const report = await evaluate(positionals[0], config, {
    sweep: values.sweep === true,
    ...(values.details !== undefined ? { onMessage: (d: MessageOutcome) => details.push(JSON.stringify(d)) } : {}),
    ...(classifierFor ? { classifierFor } : {}),
    progress: (done, total) => {
      const now = Date.now();
      if (done !== total && now - last < (tty ? 100 : 5000)) return;
      last = now;
      if (tty) {
        const w = 30;
        const f = Math.round((done / total) * w);
        io.err(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}${done === total ? '\n' : ''}`);
      } else io.err(`eval: ${done}/${total}\n`);
    },
  });
  if (values.details !== undefined) {
    await writeFile(String(values.details), details.length ? `${details.join('\n')}\n` : '');
    io.err(`eval: ${details.length} message outcomes written to ${String(values.details)} (wrong: true marks the misjudged)\n`);
  }
  io.out(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

/** How many items fall under each key, in first-seen order (for the model's training summary). */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/**
 * What `phishx train` reads by default: the development corpus (phish, old ham, spam), modern
 * legitimate mail (bounces, shipping and payment notices) and modern multilingual phish
 * (docs/detection.md). The first keeps its paths in the model's training summary.
 */
const DEFAULT_CORPORA = ['corpus', 'corpus-modern', 'corpus-lists'];

/** Where the fortune packages put their files (PHISHX_FORTUNES_DIR overrides, e.g. for a non-Debian layout). */
function fortunesDir(): string {
  return process.env.PHISHX_FORTUNES_DIR || FORTUNES_ROOT;
}

/** Where Debian puts package documentation (the French FAQ); PHISHX_DOC_DIR overrides. */
function docDir(): string {
  return process.env.PHISHX_DOC_DIR || DOC_ROOT;
}

/**
 * The everyday-text ham for `eval --cv / --loso`. Without the packages the held-out models
 * are trained on the corpus alone (said on stderr): a measurement still, of that recipe.
 */
function everydayTextForEval(io: Out): Example[] {
  try {
    return languageHamExamples(fortunesDir(), docDir());
  } catch (err) {
    if (!(err instanceof TrainingDataError)) throw err;
    io.err(`eval: ${err.message}; training the held-out models on the corpus alone, so the figures describe that recipe, not the shipped model's\n`);
    return [];
  }
}

async function cmdTrain(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { corpus: { type: 'string', multiple: true }, out: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' }, check: { type: 'boolean' }, 'corpus-only': { type: 'boolean' } }, 'train');
  if (values.help) return io.out(HELP.train), 0;
  if (positionals.length) throw new UsageError(`train: unexpected argument ${JSON.stringify(positionals[0])}\n\n${HELP.train}`);
  const int = (v: unknown, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`train: --${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const opts = { ...DEFAULT_TRAIN, epochs: int(values.epochs, 'epochs', DEFAULT_TRAIN.epochs), seed: int(values.seed, 'seed', DEFAULT_TRAIN.seed) };
  const given = (values.corpus as string[] | undefined) ?? [];
  const corpora = given.length ? given.map((c) => path.resolve(c)) : DEFAULT_CORPORA.map((c) => path.resolve('..', 'shared', c));
  const out = path.resolve(String(values.out ?? defaultModelPath()));
  io.err(`train: reading ${corpora.join(', ')}\n`);
  const examples = await loadCorpora(corpora);
  const extra = values['corpus-only'] ? [] : languageHamExamples(fortunesDir(), docDir());
  const counts = countBy(examples, (e) => e.label);
  const languageHam = countBy(extra, (e) => e.source);
  const t0 = performance.now();
  const model = train([...examples, ...extra], opts);
  const files: Array<[string, string]> = [
    [out, serializeModel(model, { corpus: corpora.map((c) => path.basename(c)).join(', '), examples: counts, languageHam, ...opts })],
    [path.join(path.dirname(out), 'letter-model.json'), `${JSON.stringify(trainLetterModel(examples.map((e) => e.text)))}\n`],
  ];
  const ms = Math.round(performance.now() - t0);
  if (values.check) {
    let same = true;
    for (const [file, json] of files) {
      const committed = await readFile(file, 'utf8').catch(() => '');
      const ok = committed === json;
      same &&= ok;
      io.err(`train --check: ${file} ${ok ? 'reproduced byte for byte' : `DIFFERS (${committed.length} bytes committed, ${json.length} trained)`}\n`);
    }
    return same ? 0 : 1;
  }
  await mkdir(path.dirname(out), { recursive: true });
  for (const [file, json] of files) await writeFile(file, json);
  io.err(`train: ${examples.length} messages ${JSON.stringify(counts)} + ${extra.length} everyday-text documents ${JSON.stringify(languageHam)}, ${ms} ms, wrote ${files.map(([f, j]) => `${f} (${j.length} bytes)`).join(' and ')}\n`);
  return 0;
}

async function cmdNlpServe(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { listen: { type: 'string' } }, 'nlp-serve');
  if (values.help) return io.out(HELP['nlp-serve']), 0;
  if (positionals.length) throw new UsageError(`nlp-serve: unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = String(values.listen ?? '127.0.0.1:8501');
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`nlp-serve: --listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const server = createNlpServer(embeddedModel());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${listen}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)));
    server.listen(Number(m[2]), m[1].replace(/^\[|\]$/g, ''), () => resolve());
  });
  const a = server.address();
  io.err(`phishx nlp-serve: embedded model on http://${m[1]}:${typeof a === 'object' && a ? a.port : m[2]}/\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function cmdFeeds(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' }, dir: { type: 'string' } }, 'feeds');
  if (values.help) return io.out(HELP.feeds), 0;
  const [sub, ...files] = positionals;
  if (sub !== 'import' && sub !== 'list') throw new UsageError(`feeds: expected "import FILE..." or "list"\n\n${HELP.feeds}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const store = createStore(config);
  try {
    if (sub === 'list') {
      if (store.kind !== 'redis') await createReputation(store, config, {}).then((r) => r.close());
      const feeds = await store.listFeeds();
      if (!feeds.length) io.out(`no feeds (${store.kind === 'redis' ? 'Redis' : config.reputation.feed_dir})\n`);
      for (const f of feeds) io.out(`${f.name}\t${f.urls} URLs\t${f.domains} domains\n`);
      return 0;
    }
    if (!files.length) throw new UsageError(`feeds import: no FILE given\n\n${HELP.feeds}`);
    if (values.name !== undefined && files.length > 1) throw new UsageError('feeds import: --name takes one FILE');
    return await forEachFile('feeds import', files, io, async (file, raw) => {
      const name = typeof values.name === 'string' ? feedName(values.name) : feedName(file);
      const feed = parseFeed(raw.toString('utf8'));
      if (store.kind === 'redis') {
        await store.replaceFeed(name, feed);
      } else {
        await writeFileDurable(path.join(config.reputation.feed_dir, `${name}.txt`), Buffer.from([...feed.urls, ...feed.domains].join('\n') + '\n'));
      }
      io.out(`${file}: feed "${name}": ${feed.urls.length} URLs, ${feed.domains.length} domains${feed.skipped ? `, ${feed.skipped} lines skipped (not a URL or domain)` : ''} ─► ${store.kind === 'redis' ? 'Redis' : path.join(config.reputation.feed_dir, `${name}.txt`)}\n`);
      return true;
    });
  } finally {
    await store.close();
  }
}

async function cmdFeedback(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, dir: { type: 'string' } }, 'feedback');
  if (values.help) return io.out(HELP.feedback), 0;
  const [sub, ...extra] = positionals;
  if ((sub !== 'list' && sub !== 'export') || extra.length) throw new UsageError(`feedback: expected "list" or "export --out DIR"\n\n${HELP.feedback}`);
  if (sub === 'export' && typeof values.out !== 'string') throw new UsageError(`feedback export: --out DIR is required\n\n${HELP.feedback}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const store = createStore(config);
  try {
    const reports = await store.listFeedback();
    if (sub === 'list') {
      if (!reports.length) io.out('no reports\n');
      for (const r of reports) io.out(`${new Date(r.at).toISOString()}  ${r.id}  ${r.verdict.padEnd(9)} ${r.by}  ${r.subject}\n`);
      return 0;
    }
    const out = path.resolve(String(values.out));
    const csv = path.join(out, 'labels.csv');
    const rows = new Map<string, string>();
    for (const line of (await readFile(csv, 'utf8').catch(() => 'path,label,source\n')).split(/\r?\n/).slice(1)) if (line.trim()) rows.set(line.split(',')[0], line);
    let written = 0;
    let missing = 0;
    for (const r of reports) {
      const raw = await store.getFeedbackRaw(r.id);
      if (!raw) {
        missing++;
        continue;
      }
      const label = r.verdict === 'phish' ? 'phish' : 'ham';
      const other = `${label === 'phish' ? 'ham' : 'phish'}/${r.id}.eml`;
      rows.delete(other); // the latest verdict wins
      await unlink(path.join(out, other)).catch(() => undefined);
      await writeFileDurable(path.join(out, label, `${r.id}.eml`), raw);
      rows.set(`${label}/${r.id}.eml`, `${label}/${r.id}.eml,${label},phishx-feedback`);
      written++;
    }
    await writeFileDurable(csv, `path,label,source\n${[...rows.values()].join('\n')}${rows.size ? '\n' : ''}`);
    io.out(`feedback export: ${written} message(s) written to ${out} (${reports.filter((r) => r.verdict === 'phish').length} phish, ${reports.filter((r) => r.verdict === 'not_phish').length} ham)${missing ? `, ${missing} without their message` : ''}; labels in ${csv}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function referenceMarkdown(): string {
  const rows = ['| section | key | default | env | meaning |', '|---|---|---|---|---|'];
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      const def = spec.default === '' ? '(empty)' : String(spec.default);
      rows.push(`| \`[${section}]\` | \`${key}\` | \`${def.length > 60 ? `${def.slice(0, 57)}...` : def}\` | \`${envName(section, key)}\` | ${spec.doc} |`);
    }
  }
  for (const [key, spec] of Object.entries(TENANT_SCHEMA)) rows.push(`| \`[tenant.<domain>]\` | \`${key}\` | (inherits) | — | ${spec.doc} |`);
  rows.push('| `[brands]` | `<brand name>` | built-in list | — | Domains that legitimately carry the brand; the section replaces the built-in list. |');
  rows.push('| `[weights]` | `<REASON_CODE>` | see Reason codes | — | Score points (-100..100) for that reason. |');
  return `${rows.join('\n')}\n`;
}

async function cmdConfig(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' }, reference: { type: 'boolean' } }, 'config');
  if (values.help) return io.out(HELP.config), 0;
  if (values.reference) return io.out(referenceMarkdown()), 0;
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  io.out(`${JSON.stringify(config, null, 2)}\n`);
  return 0;
}

async function cmdReasons(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { markdown: { type: 'boolean' } }, 'reasons');
  if (values.help) return io.out(HELP.reasons), 0;
  const entries = Object.entries(REASONS);
  if (values.markdown) {
    io.out(['| code | weight | meaning |', '|---|---:|---|', ...entries.map(([c, r]) => `| \`${c}\` | ${r.weight} | ${r.doc} |`)].join('\n') + '\n');
  } else {
    for (const [c, r] of entries) io.out(`${c.padEnd(28)} ${String(r.weight).padStart(3)}  ${r.doc}\n`);
  }
  return 0;
}

async function cmdMetrics(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { markdown: { type: 'boolean' } }, 'metrics');
  if (values.help) return io.out(HELP.metrics), 0;
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${HELP.metrics}`);
  if (values.markdown) {
    io.out(['| family | type | labels | meaning |', '|---|---|---|---|', ...FAMILY_DOCS.map((f) => `| \`${f.name}\` | ${f.type} | ${f.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${f.help} |`)].join('\n') + '\n');
  } else {
    for (const f of FAMILY_DOCS) io.out(`${f.name.padEnd(44)} ${f.type.padEnd(9)} ${(f.labels.join(',') || '-').padEnd(22)} ${f.help}\n`);
  }
  return 0;
}

async function cmdToken(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { scope: { type: 'string' }, tenant: { type: 'string' } }, 'token');
  if (values.help) return io.out(HELP.token), 0;
  const [sub, token, ...extra] = positionals;
  if (sub === 'new' && !token) {
    const scope = String(values.scope ?? 'admin');
    if (!SCOPES.includes(scope as Scope)) throw new UsageError(`token new: --scope must be read, act or admin, got ${JSON.stringify(scope)}`);
    const tenant = values.tenant === undefined ? '' : String(values.tenant).toLowerCase();
    if (values.tenant !== undefined && !/^[a-z0-9.-]{1,253}$/.test(tenant)) throw new UsageError('token new: --tenant must be a domain (the name of a [tenant.DOMAIN] section)');
    const t = newToken();
    const suffix = scope === 'admin' && !tenant ? '' : `:${scope}${tenant ? `:${tenant}` : ''}`;
    io.out(`token: ${t.token}\nscope: ${scope}${tenant ? `, tenant ${tenant} only` : ''}\n\n# config/phishx.ini\n[sidecar]\ntoken_hashes = ${t.hash}${suffix}\n`);
    return 0;
  }
  if (sub === 'hash' && token && !extra.length) {
    if (token.length < 16) throw new UsageError('a token must be at least 16 characters');
    io.out(`${hashToken(token)}\n`);
    return 0;
  }
  throw new UsageError(`expected "new" or "hash TOKEN"\n\n${HELP.token}`);
}

const COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = { quarantine: cmdQuarantine, soc: cmdSoc, audit: cmdAudit, feedback: cmdFeedback, scan: cmdScan, send: cmdSend, eval: cmdEval, train: cmdTrain, 'nlp-serve': cmdNlpServe, feeds: cmdFeeds, config: cmdConfig, reasons: cmdReasons, metrics: cmdMetrics, token: cmdToken };

/** CLI entry: returns the exit code. Usage and config errors are printed, never thrown. */
export async function main(argv: string[], io: Out = std): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help') return io.out(MAIN_HELP), cmd ? 0 : 2;
  if (cmd === 'help') return io.out(HELP[rest[0] ?? ''] ?? MAIN_HELP), 0;
  const run = COMMANDS[cmd];
  if (!run) {
    io.err(`phishx: unknown command "${cmd}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    const code = (err as { code?: string }).code;
    io.err(`phishx ${cmd}: ${errorMessage(err)}\n`);
    return code === 'PHISHX_CLI_USAGE' ? 2 : 1;
  }
}
