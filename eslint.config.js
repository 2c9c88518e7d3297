// One lint configuration for the whole repository: ESLint's and typescript-eslint's recommended
// rules (the syntactic set: no type information, so a run takes seconds), with formatting left
// to Prettier (eslint-config-prettier, last, turns off every rule it would fight).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The browser names static/ uses, listed here rather than taken from the `globals` package
// (not a dependency): a name the dashboard starts to use must be added, which no-undef says.
const BROWSER = Object.fromEntries(
  [
    'Blob',
    'ResizeObserver',
    'URL',
    'WebSocket',
    'XMLHttpRequest',
    'clearInterval',
    'clearTimeout',
    'console',
    'document',
    'fetch',
    'getComputedStyle',
    'requestAnimationFrame',
    'setInterval',
    'setTimeout',
    'window',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', '.tap/', 'reports/', 'scratch/', 'data/', 'models/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter a signature requires, or a field taken out of a rest copy, that the body does not read.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['static/**/*.js'],
    languageOptions: { sourceType: 'module', globals: BROWSER },
  },
  {
    // STYLE.md bans `any` in src/; tests declare the page's `document`/`window` as `any` for
    // page.evaluate callbacks, since the type checker has no DOM library.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The rule: no function in src/server or src/monitor longer than 80 lines.
    files: ['src/server/**/*.ts', 'src/monitor/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  prettier,
);
