/**
 * ESLint for both halves: the bridge's TypeScript (typescript-eslint's recommended rules, beside
 * its strict tsc compile), and the Salesforce package's Lightning web components (TypeScript
 * sources, linted by the LWC rules with their TypeScript parser) and their jest tests. Node
 * scripts are left out: the LWC rules do not fit them.
 */
const lwcConfig = require('@salesforce/eslint-config-lwc');
const tseslint = require('typescript-eslint');
const jestPlugin = require('eslint-plugin-jest');
const globals = require('globals');

const BRIDGE_SOURCES = ['relation-bridge/**/*.ts'];
const COMPONENT_SOURCES = ['force-app/**/lwc/**/*.ts'];
const COMPONENT_TESTS = ['force-app/**/lwc/**/__tests__/**/*.js', 'force-app/test/**/*.js'];

const scoped = (configs, files) => configs.map((config) => ({ ...config, files }));

module.exports = [
  {
    ignores: [
      '**/node_modules/**',
      'relation-bridge/dist/**',
      'relation-bridge/test-results/**',
      'scripts/**',
      '*.config.js',
      // The .js beside each component's .ts is the build's output (npm run lwc:build).
      'force-app/**/lwc/*/*.js',
      'force-app/**/lwc/types/**',
      'coverage/**',
      'data/**',
    ],
  },
  ...scoped(tseslint.configs.recommended, BRIDGE_SOURCES),
  {
    files: BRIDGE_SOURCES,
    rules: {
      // Dropping fields by destructuring (e.g. tokens before a value leaves the store) is how
      // secrets are kept out of views; the dropped names are unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read JSON answers loosely; production code may not.
    files: ['relation-bridge/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...scoped(lwcConfig.configs.recommendedTs, COMPONENT_SOURCES),
  {
    files: COMPONENT_SOURCES,
    rules: {
      // The babel parser's scope analysis does not see TypeScript declarations (types, interfaces,
      // the generated `Apex` namespace); the strict tsc run of the build reports undefined names.
      'no-undef': 'off',
    },
  },
  ...scoped(lwcConfig.configs.recommended, COMPONENT_TESTS),
  {
    files: COMPONENT_TESTS,
    plugins: { jest: jestPlugin },
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      ...jestPlugin.configs['flat/recommended'].rules,
      // The LWC rules forbid async work in components; tests must wait for the DOM to settle.
      '@lwc/lwc/no-async-operation': 'off',
    },
  },
];
