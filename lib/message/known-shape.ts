/**
 * Source of a function without comments and whitespace: what a dependency's function is
 * compared with before PhishX replaces it (mime-decoders.ts, css-tree-fixes.ts), so an upgrade
 * that changes the function keeps its own code. Pure.
 */
export const shapeOf = (fn: (...args: never[]) => unknown): string =>
  fn
    .toString()
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');
