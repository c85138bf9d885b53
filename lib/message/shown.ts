/**
 * Text as a mail client draws it, for the readers of text (the classifier's tokenizer, the
 * brand skeleton): what the reader cannot see is gone, what the client reorders is in the
 * order the reader reads it. Pure functions.
 */

/**
 * Characters a client draws as nothing: format characters (Unicode category Cf: zero-width
 * space and joiners, soft hyphen, word joiner, BOM, direction marks) and the other default
 * ignorables (combining grapheme joiner, variation selectors, Hangul fillers). A client shows
 * "pass\u200bword" or "pass\u034fword" as "password".
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * A right-to-left override (U+202E) and what it governs: up to a pop (U+202C), another
 * embedding, override or isolate control, or the end of the line. Its letters are drawn right
 * to left, so "\u202edrowssap" is read as "password".
 */
const RIGHT_TO_LEFT_OVERRIDE = /\u202e([^\u202a-\u202e\u2066-\u2069\n]*)/g;

/** `text` in the order and with the characters the reader sees. */
export function asShown(text: string): string {
  const ordered = text.includes('\u202e') ? text.replace(RIGHT_TO_LEFT_OVERRIDE, (_m, run: string) => [...run].reverse().join('')) : text;
  return ordered.replace(INVISIBLE, '');
}

/**
 * Small capitals (ᴀ ʙ ᴄ … from the phonetic blocks) read as the letters they are drawn as:
 * NFKC leaves them apart, so "ᴠᴇʀɪꜰʏ ʏᴏᴜʀ ᴀᴄᴄᴏᴜɴᴛ" was a string of unknown words to the
 * classifier and "ɴᴇᴛꜰʟɪx" escaped the brand check. Lower case, as they read.
 */
const SMALL_CAPITALS: Readonly<Record<string, string>> = {
  ᴀ: 'a',
  ʙ: 'b',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ꜰ: 'f',
  ɢ: 'g',
  ʜ: 'h',
  ɪ: 'i',
  ᴊ: 'j',
  ᴋ: 'k',
  ʟ: 'l',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ꞯ: 'q',
  ʀ: 'r',
  ꜱ: 's',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ʏ: 'y',
  ᴢ: 'z',
};
const SMALL_CAPITAL = new RegExp(`[${Object.keys(SMALL_CAPITALS).join('')}]`, 'gu');

/** `text` with small capitals as the lower-case Latin letters they are read as. */
export function foldSmallCapitals(text: string): string {
  return text.replace(SMALL_CAPITAL, (c) => SMALL_CAPITALS[c]);
}
