import type { ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';

/** Most characters of the visible body examined (the lure is stated near the top). */
const BODY_CHARS = 20_000;

/**
 * Letters that pass for Latin ones inside a Latin word: any Cyrillic, Coptic, Armenian or
 * Cherokee letter (а е о р с у х, Ⲣ …), and the Greek capitals that look Latin plus
 * omicron and the beta symbol (Α Β Ε Ι Κ Ο Ρ Τ Χ, ο, ϐ). Other Greek lower-case letters are
 * left out: science writes "cosθ", "sinα", "μmol".
 */
const LOOKALIKE_SCRIPT = /[\p{Script=Cyrillic}\p{Script=Coptic}\p{Script=Armenian}\p{Script=Cherokee}ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοϲϳϐ]/u;
const LATIN = /\p{Script=Latin}/u;
/** Mathematical Alphanumeric Symbols (𝐏𝐚𝐲𝐏𝐚𝐥, 𝘿𝙊𝘾𝙏𝙊𝙍): styled letters that NFKC folds to ASCII. */
const MATH_ALNUM = /[\u{1D400}-\u{1D7FF}]/gu;

/** Letters of the scripts that lookalikes come from, counted whole. */
const NATIVE_LETTERS = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Coptic}\p{Script=Armenian}\p{Script=Cherokee}]/gu;
const LATIN_LETTERS = /\p{Script=Latin}/gu;
/** A text with at least this many letters, this share of them native-script, is written in that script. */
const NATIVE_TEXT_LETTERS = 40;
const NATIVE_TEXT_SHARE = 0.6;
/** A Latin word with a native-script ending and nothing else mixed in: "iPhoneом", "Samsungа". */
const DECLINED_LATIN = /^[\p{Script=Latin}\p{M}]+[\p{Script=Cyrillic}\p{Script=Greek}\p{M}]+$/u;

/**
 * First word (3+ letters) that mixes Latin with lookalike-script letters, or null. In a
 * text written in Cyrillic or Greek, a Latin brand name with a native case ending
 * ("с iPhoneом") is ordinary spelling, not disguise, and is let through. Pure.
 */
export function mixedScriptWord(text: string): string | null {
  // Most mail has no lookalike-script letter at all: nothing to count or split.
  if (!LOOKALIKE_SCRIPT.test(text)) return null;
  const native = text.match(NATIVE_LETTERS)?.length ?? 0;
  const letters = native + (text.match(LATIN_LETTERS)?.length ?? 0);
  const nativeText = letters >= NATIVE_TEXT_LETTERS && native / letters > NATIVE_TEXT_SHARE;
  for (const m of text.matchAll(/[\p{L}\p{M}]{3,}/gu)) {
    const w = m[0];
    if (LATIN.test(w) && LOOKALIKE_SCRIPT.test(w) && !(nativeText && DECLINED_LATIN.test(w))) return w;
  }
  return null;
}

/**
 * Text written to slip past word filters: words that mix Latin letters with Cyrillic /
 * Greek / Coptic lookalikes ("Ⲣауmеnt", "ΑIеrt"), or runs of Mathematical Alphanumeric
 * Symbols ("𝘿𝙊𝘾𝙏𝙊𝙍 𝙎𝘼𝙔𝙎"). Real mail in Russian or Greek writes whole words in its script;
 * mixing inside one word is disguise. Looks at the subject, the From display name and the
 * visible body. Pure.
 */
export function analyzeTextDisguise(input: Pick<ScanInput, 'subject' | 'from' | 'text' | 'htmlText'>): Signal[] {
  const places: Array<[string, string]> = [
    ['subject', input.subject],
    ['display name', input.from?.name ?? ''],
    ['body', `${input.text.slice(0, BODY_CHARS)}\n${input.htmlText.slice(0, BODY_CHARS)}`],
  ];
  for (const [where, text] of places) {
    const word = mixedScriptWord(text);
    if (word) return [{ code: 'TEXT_MIXED_SCRIPT', detail: `${where}: "${word.slice(0, 40)}" mixes Latin with lookalike letters` }];
    const styled = text.match(MATH_ALNUM);
    if (styled && styled.length >= 3)
      return [{ code: 'TEXT_MIXED_SCRIPT', detail: `${where}: ${styled.length} mathematical-alphanumeric letters ("${styled.slice(0, 12).join('')}")` }];
  }
  return [];
}
