import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TrainingDataError } from '../errors.js';
import { CJK_SCRIPTS, vectorize } from './features.js';
import { classifierText } from './text.js';
import type { Example } from './train.js';

/**
 * Everyday text in the corpus's other languages, as extra ham for training.
 *
 * The dev corpus's ham is English mailing-list traffic, while a third of its phishing is
 * German, Portuguese, Dutch, French or Spanish: trained on it alone, the text model learns
 * "not English" as a phishing cue and scores an ordinary German or Portuguese note p ≈ 0.99.
 * Debian's fortune-cookie collections (sayings, anecdotes, poems, recipes, jokes — written
 * by people for people, GPL / public domain) give it the function words and everyday
 * vocabulary of those languages as ham, so it has to judge content rather than language;
 * English everyday text is added in the same measure. French has no fortune package in
 * Debian 12: its prose comes from the French Debian FAQ (debian-faq-fr, GFDL/GPL) — written
 * to a reader ("vous", "votre"), like a notification or a bounce, so those words stop
 * being cues; without it a French delivery-status notice scored p 0.99. Japanese, Chinese
 * and Dutch come from their Debian FAQs too (debian-faq-ja, -zh-cn, -nl).
 * Only derived weights are shipped; `npm run train` reads the installed packages.
 */
/** docChars: about how long a document is (CJK says in 400 characters what English does in 1,200). */
export const LANGUAGE_HAM_PACKAGES: ReadonlyArray<{ lang: string; pkg: string; dir: string; files?: readonly string[]; root?: 'doc'; docChars?: number }> = [
  // English too, in the same measure: otherwise "everyday prose" would become a cue of the
  // other languages only, and English mail would look more mail-like, i.e. more phishing-like.
  {
    lang: 'en',
    pkg: 'fortunes',
    dir: '.',
    files: (
      'art computers cookie debian definitions disclaimer drugs education ethnic food goedel humorists kids knghtbrd law linux linuxcookie ' +
      'love magic medicine men-women miscellaneous news paradoxum people perl pets platitudes politics pratchett science songs-poems sports ' +
      'startrek tao translate-me wisdom work zippy'
    ).split(' '),
  },
  { lang: 'de', pkg: 'fortunes-de', dir: 'de' },
  { lang: 'pt', pkg: 'fortunes-br', dir: 'brasil' },
  { lang: 'es', pkg: 'fortunes-es', dir: 'es' },
  { lang: 'it', pkg: 'fortunes-it', dir: 'it' },
  // A gzipped plain-text document under /usr/share/doc: paragraphs are its entries.
  { lang: 'fr', pkg: 'debian-faq-fr', dir: 'debian/FAQ', files: ['debian-faq.fr.txt.gz'], root: 'doc' },
  // Japanese, Chinese and Dutch: a fifth of the modern phish (corpus-lists) is Japanese or
  // Chinese and all their training ham is a handful of bounces, so without everyday text the
  // model read the script itself as phishing (a Japanese stock notice scored p 0.98).
  { lang: 'ja', pkg: 'debian-faq-ja', dir: 'debian/FAQ', files: ['debian-faq.ja.txt.gz'], root: 'doc', docChars: 400 },
  { lang: 'zh', pkg: 'debian-faq-zh-cn', dir: 'debian/FAQ', files: ['debian-faq.zh-cn.txt.gz'], root: 'doc', docChars: 400 },
  { lang: 'nl', pkg: 'debian-faq-nl', dir: 'debian/FAQ', files: ['debian-faq.nl.txt.gz'], root: 'doc' },
];

export const FORTUNES_ROOT = '/usr/share/games/fortunes';
export const DOC_ROOT = '/usr/share/doc';

/**
 * Documents per language, and about how many characters each (a typical message body).
 * 150 per language (750 in all, half the corpus's ham) was chosen by 5-fold cross-validation
 * among 150 / 200 / 250 / 400: more documents neutralise the languages further but cost
 * dev-corpus recall and raise its ham false positives (docs/detection.md).
 */
const PER_LANGUAGE = 150;
const DOC_CHARS = 1200;
/**
 * Each everyday document counts half a message: enough to neutralise a language (nine of them
 * now, 1,300 documents against 1,500 corpus ham), not so much that prose outweighs mail. Chosen
 * with the CJK documents by cross-validation among 1 and 0.5 (docs/detection.md).
 */
const EVERYDAY_WEIGHT = 0.5;
/** Collections left out: pictures drawn in characters, and fortunes-es's offensive section. */
const SKIP = new Set(['asciiart', 'off']);

/** Entries of a fortune file: separated by lines holding only "%"; whitespace folded; short ones dropped. */
export function fortuneEntries(text: string): string[] {
  return text
    .split(/\r?\n%\r?\n/)
    .map((e) => e.replace(/\s+/g, ' ').trim())
    .filter((e) => e.length >= 40);
}

/** A line break inside CJK text (which has no spaces): the wrap, not a word gap. */
const CJK_WRAP = new RegExp(`(?<=[${CJK_SCRIPTS}ー、。])\\s*\\n\\s*(?=[${CJK_SCRIPTS}ー])`, 'gu');

/** Paragraphs of a plain-text document (blank-line separated), whitespace folded, short ones dropped. */
export function paragraphEntries(text: string): string[] {
  return text
    .split(/\r?\n[ \t]*\r?\n/)
    .map((e) => e.replace(CJK_WRAP, '').replace(/\s+/g, ' ').trim())
    .filter((e) => e.length >= 40);
}

/** Entries of one source file: a fortune collection, or the paragraphs of a (gzipped) text. */
function entriesOf(file: string): string[] {
  if (file.endsWith('.txt.gz')) return paragraphEntries(gunzipSync(readFileSync(file)).toString('utf8'));
  return fortuneEntries(readFileSync(file, 'utf8'));
}

function filesOf(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .filter((f) => !SKIP.has(f) && !/\.(dat|u8)$/.test(f))
    .sort()
    .flatMap((f) => (statSync(path.join(p, f)).isDirectory() ? [] : [path.join(p, f)]));
}

/**
 * Message-sized documents of one language: consecutive entries joined until ~docChars,
 * then PER_LANGUAGE of them taken evenly across the collection. Deterministic (sorted files).
 */
export function languageDocuments(files: readonly string[], docChars = DOC_CHARS, perLanguage = PER_LANGUAGE): Array<{ subject: string; body: string }> {
  const docs: string[][] = [];
  let cur: string[] = [];
  let n = 0;
  for (const f of files) {
    for (const e of entriesOf(f)) {
      cur.push(e);
      n += e.length;
      if (n >= docChars) {
        docs.push(cur);
        cur = [];
        n = 0;
      }
    }
  }
  const step = Math.max(1, Math.floor(docs.length / perLanguage));
  const out: Array<{ subject: string; body: string }> = [];
  for (let i = 0; i < docs.length && out.length < perLanguage; i += step) out.push({ subject: docs[i][0].slice(0, 80), body: docs[i].join('\n') });
  return out;
}

/**
 * The extra ham as training examples (label ham, source `fortunes-<lang>`). They are always
 * trained on and never scored or used for calibration. Throws TrainingDataError naming the
 * Debian packages when they are not installed.
 */
export function languageHamExamples(root: string = FORTUNES_ROOT, docRoot: string = DOC_ROOT): Example[] {
  const dirOf = (l: (typeof LANGUAGE_HAM_PACKAGES)[number]): string => path.join(l.root === 'doc' ? docRoot : root, l.dir);
  const missing = LANGUAGE_HAM_PACKAGES.filter((l) => !existsSync(path.join(dirOf(l), ...(l.files ? [l.files[0]] : []))));
  if (missing.length) {
    throw new TrainingDataError(
      `training needs everyday text in nine languages from Debian's fortune and FAQ packages, not found under ${root} and ${docRoot}: install them with ` +
        `"apt-get install ${missing.map((l) => l.pkg).join(' ')}" (docs/detection.md)`,
    );
  }
  const out: Example[] = [];
  for (const l of LANGUAGE_HAM_PACKAGES) {
    languageDocuments(l.files ? l.files.map((f) => path.join(dirOf(l), f)) : filesOf(dirOf(l)), l.docChars).forEach((d, i) => {
      const text = classifierText({ subject: d.subject, text: d.body, htmlText: '' });
      const v = vectorize(text);
      out.push({
        file: `fortunes:${l.lang}:${i}`,
        label: 'ham',
        source: `fortunes-${l.lang}`,
        text,
        idx: v.idx,
        value: v.value,
        y: 0,
        weight: EVERYDAY_WEIGHT,
        calibrate: false,
      });
    });
  }
  return out;
}
