import path from 'node:path';

/**
 * The package's root — where package.json, the default config/ and lib/nlp/model/ are — from
 * this file in lib/config/ (sources) or dist/lib/config/ (compiled): the repository in the
 * try-out directory, node_modules/haraka-plugin-phishx in a site that installed the package.
 */
export const PACKAGE_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
