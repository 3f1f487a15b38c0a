// ESLint for the server (src/, test/, bench/, scripts/) and the console (web/). Formatting is
// Prettier's job (eslint-config-prettier turns off the rules it settles).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring a field away, an unused callback parameter).
      // A closure may read a variable (e.g. a client) that is assigned once, later: that is not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Input validation matches control characters on purpose (NUL and friends are refused).
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Migrations take Kysely<any> on purpose (Kysely's advice: a migration must not depend on today's
    // table types); tests read parsed XML and JSON answers loosely.
    files: ['src/**/schema.ts', 'src/**/*.schema.ts', 'src/core/queue.ts', 'test/**', 'src/**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  prettier,
);
