// ESLint (flat config): typescript-eslint's recommended rules over every TypeScript part, and
// the few type-aware ones that catch real bugs cheaply (a promise nobody awaits or catches).
// Formatting is prettier's (`npm run format`), not ESLint's; layering is dependency-cruiser's
// (.dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'out/',
      'out-e2e/',
      'node_modules/',
      '.e2e/',
      '.test-output/',
      '.vscode-test/',
      'demo/',
      'bench/.data/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/await-thenable': 'error',
      // `a && b()` and `c ? d() : e()` as statements are idioms here; a bare comma sequence is not.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Binary formats (NPY magic, ZIP names, terminal escapes) are matched on their control bytes on purpose.
      // A `let` that a callback reads before its one assignment (set up first, assigned later) stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Our errors are sentences for the user that already include the cause's words.
      'preserve-caught-error': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // The contract mirrors LSP's own shape: one namespace per message (method, Params, Result, type).
    files: ['server/src/protocol.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
);
