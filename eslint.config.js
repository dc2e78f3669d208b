// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Code outside the service that uses it: only through api/ or server/index.ts. */
const CLIENT_CODE = [
  'main/**',
  'preload/**',
  'renderer/**',
  'bench/**',
  'test/desktop/**',
  'test/cli/**',
  'test/electron/**',
  'test/renderer-e2e/**',
  'test/support/**',
  'test/bench/**',
];
const SERVER_INTERNALS = {
  group: ['**/server/**', '!**/server/index.js'],
  message: 'Use the service through api/ (over HTTP) or server/index.ts, never its internals.',
};

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'out/', '.timebox/', '.scratch/', 'test-results/', 'bench/results/'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Fastify's plugins and hooks are async by contract, whether or not a given one awaits.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The service's clients (the desktop app, the CLI, the bench and their suites) reach it over HTTP
    // through api/, or embed it through server/index.ts; its internals are its own.
    files: CLIENT_CODE,
    rules: { 'no-restricted-imports': ['error', { patterns: [SERVER_INTERNALS] }] },
  },
  {
    // api/ is what the service and all its clients share: it depends on none of them.
    files: ['api/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/main/**', '**/preload/**', '**/renderer/**', '**/cli/**'],
              message: 'api/ is shared by the service and its clients; it imports none of them.',
            },
          ],
        },
      ],
    },
  },
  {
    // keychain/ is the OS keychain for the desktop app and the CLI alike: it depends on neither.
    files: ['keychain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/main/**', '**/preload/**', '**/renderer/**', '**/cli/**'],
              message: 'keychain/ is shared by the desktop app and the CLI; it imports neither.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI is a client of api/ like the desktop app, never a part of it.
    files: ['cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            SERVER_INTERNALS,
            {
              group: ['**/main/**', '**/preload/**', '**/renderer/**'],
              message: 'cli/ never imports the desktop app; share through api/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The desktop core runs in plain Node (its tests run it there): Electron and its native or
    // Electron-bound packages belong in the adapters (main/electron, main/adapters), never here.
    files: ['main/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'main/core never imports Electron; put it in an adapter (main/electron).',
            },
            {
              name: 'electron-store',
              message: 'main/core takes a SettingsStore; electron-store lives in main/electron.',
            },
            { name: 'keytar', message: 'main/core takes a Keychain; keytar lives in keychain/.' },
          ],
          patterns: [
            {
              group: ['electron/*'],
              message: 'main/core never imports Electron; put it in an adapter (main/electron).',
            },
            SERVER_INTERNALS,
          ],
        },
      ],
    },
  },
  {
    // The renderer's components and hooks: the rules of hooks, and the React Compiler's checks.
    files: ['renderer/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat['recommended-latest']],
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  prettier,
);
