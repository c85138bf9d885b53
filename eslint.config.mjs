// ESLint with typescript-eslint's type-checked rules (formatting is Prettier's: npm run format). The promise rules enforce mechanically
// what the Haraka hooks rely on: no promise escapes a hook (no-floating-promises), none is
// passed where a callback's result is ignored (no-misused-promises).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist.next/**', 'dist.prev/**', 'node_modules/**', 'scratch/**', 'lib/cli/phishx.cjs', 'scripts/build.cjs', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe / it return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Store and analyzer methods are async to fit their interface, awaiting nothing themselves.
      '@typescript-eslint/require-await': 'off',
      // Haraka binds `this` to the plugin; hooks name it `plugin` for their callbacks.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['plugin'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Prettier formats to 160 columns (.prettierrc.json, npm run format); what it cannot
      // break — a template literal, a regular expression — is the only thing allowed past it.
      'max-len': ['error', { code: 160, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
    },
  },
  {
    // Tests read JSON answers without declaring their shape.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
