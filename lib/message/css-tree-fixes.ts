import path from 'node:path';
import * as csstree from 'css-tree';
import { shapeHash } from './known-shape.js';

/**
 * Two faults of css-tree 3.2.1 (the sheet parser of stylesheet.ts) that a message's `<style>`
 * text can trigger, both found by the message fuzzer; fixed here until css-tree fixes them.
 *
 * **A parse that never ends** (`token-stream#setSource`). The tokenizer reuses its buffers
 * from one parse to the next; when it closes a block at the top level it reads the type of
 * the token at index `source.length` — a slot the current parse never wrote, so what an
 * earlier, longer sheet left there. If that was a block opener, the balance table comes out
 * wrong and, with `parseRulePrelude: false` (how stylesheet.ts parses), skipping a rule's
 * prelude loops forever: a sheet of 30 characters (`a{}` ten times) and then `{,}}a/*` hang
 * the scan thread. The replaced `setSource` clears that one slot first, so every parse sees
 * what the first one does (a fresh buffer holds 0 there), and calls css-tree's own.
 *
 * **Parse errors that cost the whole sheet each** (`parser#SyntaxError`). css-tree's
 * `SyntaxError` copies the error's `stack` and `formattedMessage` getters with `Object.assign`,
 * which calls them: a stack trace captured and formatted, and the whole sheet split into lines
 * to quote the lines around the error. The parser recovers and reads on, so a sheet with an
 * error every few characters costs O(n²): 96 KB of `{,\,}}` took 1.7 s, 256 KB 7.5–12 s. PhishX never reads the errors (no
 * `onParseError`; a sheet whose parse throws is skipped): the replacement sets the same fields
 * and builds `formattedMessage` and `sourceFragment()` only when read, with css-tree's own
 * function from the same arguments; `stack` is the first line css-tree's has, without frames.
 *
 * Each is replaced only while css-tree's function is the known shape (SHA-256 of its source
 * without whitespace and comments), so an upgrade that changes it keeps its own code;
 * `cssTreeFixes()` lists what was replaced and a unit test fails if one is missing, so an
 * upgrade must re-check both faults (test/unit/message.test.ts) rather than lose a fix silently.
 */

/** css-tree's parse-error factory (cjs/parser/SyntaxError.cjs). */
type ErrorFactory = (message: string, source: string, offset: number, line: number, column: number, baseLine?: number, baseColumn?: number) => CssSyntaxError;
interface CssSyntaxError extends Error {
  source: string;
  offset: number;
  line: number;
  column: number;
  sourceFragment(extraLines?: number): string;
  readonly formattedMessage: string;
}
interface TokenStreamLike {
  offsetAndType: Uint32Array | null;
}
type SetSource = (this: TokenStreamLike, source?: string, tokenize?: unknown) => void;

/** SHA-256 of the known shapes (css-tree 3.2.1). */
const SET_SOURCE_SHAPE = '6fb4f6dc53da1d84f503d5b675759c0a60b6eff47030382952de3b4bb6ea73bb';
const FACTORY_SHAPE = '5c76470db5f3219cafbfdce911bcae9c9485147616ecb490a1ceb945091521ee';

/** A factory with `original`'s fields whose costly parts are built by `original` when read. */
export function lazyErrorFactory(original: ErrorFactory): ErrorFactory {
  return function SyntaxError(message, source, offset, line, column, baseLine = 1, baseColumn = 1): CssSyntaxError {
    let full: CssSyntaxError | undefined;
    const built = (): CssSyntaxError => (full ??= original(message, source, offset, line, column, baseLine, baseColumn));
    const error = Object.assign(Object.create(globalThis.SyntaxError.prototype) as CssSyntaxError, {
      name: 'SyntaxError',
      message,
      stack: `SyntaxError: ${message}`,
      source,
      offset,
      line,
      column,
      sourceFragment: (extraLines?: number) => built().sourceFragment(extraLines),
    });
    Object.defineProperty(error, 'formattedMessage', { get: () => built().formattedMessage, enumerable: true, configurable: true });
    return error;
  };
}

/** css-tree's module `file` (under its cjs folder): the instance its parser uses; null when it cannot be loaded. */
function cssTreeModule<T>(...file: string[]): T | null {
  try {
    // css-tree's exports map hides these modules.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(path.dirname(require.resolve('css-tree')), ...file)) as T;
  } catch {
    return null;
  }
}

let installed: string[] | null = null;

/** Install the fixes (once per process); returns what was replaced. */
export function useCssTreeFixes(): readonly string[] {
  if (installed) return installed;
  installed = [];
  const tokens = cssTreeModule<{ TokenStream: { prototype: { setSource: SetSource } } }>('tokenizer', 'TokenStream.cjs');
  const setSource = tokens?.TokenStream.prototype.setSource;
  if (tokens && typeof setSource === 'function' && shapeHash(setSource) === SET_SOURCE_SHAPE) {
    tokens.TokenStream.prototype.setSource = function (this: TokenStreamLike, source?: string, tokenize?: unknown): void {
      const length = (source || '').length; // the parser passes strings
      if (this.offsetAndType && length < this.offsetAndType.length) this.offsetAndType[length] = 0;
      setSource.call(this, source, tokenize);
    };
    installed.push('token-stream#setSource');
  }
  const errors = cssTreeModule<{ SyntaxError: ErrorFactory }>('parser', 'SyntaxError.cjs');
  const factory = errors?.SyntaxError;
  if (errors && typeof factory === 'function' && shapeHash(factory) === FACTORY_SHAPE) {
    errors.SyntaxError = lazyErrorFactory(factory);
    // The parser reads the factory off the module at every error: check that it now gets this one.
    let seen: unknown = null;
    try {
      csstree.parse('a{b}', { onParseError: (e) => (seen = e) });
    } catch {
      /* judged by what onParseError saw */
    }
    if (seen instanceof globalThis.SyntaxError && seen.stack === `SyntaxError: ${seen.message}`) installed.push('parser#SyntaxError');
    else errors.SyntaxError = factory;
  }
  return installed;
}

/** The fixes `useCssTreeFixes` installed (empty before it ran). */
export function cssTreeFixes(): readonly string[] {
  return installed ?? [];
}
