import { createHash } from 'node:crypto';

/**
 * Source of a function without comments and whitespace: what a dependency's function is
 * compared with before PhishX replaces it (mime-decoders.ts, css-tree-fixes.ts, haraka/read-message.ts), so an upgrade
 * that changes the function keeps its own code. Pure.
 */
export const shapeOf = (fn: (...args: never[]) => unknown): string =>
  fn
    .toString()
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');

/** SHA-256 (hex) of `shapeOf(fn)`: how a known shape is written down (css-tree-fixes.ts, read-message.ts). Pure. */
export const shapeHash = (fn: (...args: never[]) => unknown): string => createHash('sha256').update(shapeOf(fn)).digest('hex');
