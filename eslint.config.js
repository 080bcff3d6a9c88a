/**
 * ESLint for the Salesforce package: the Lightning web components (TypeScript sources, linted by
 * the LWC rules with their TypeScript parser) and their jest tests. Everything else is left out:
 * the bridge is checked by its strict TypeScript compile (linting it would need typescript-eslint,
 * which the project does not install), and the LWC rules do not fit Node scripts.
 */
const lwcConfig = require('@salesforce/eslint-config-lwc');
const jestPlugin = require('eslint-plugin-jest');
const globals = require('globals');

const COMPONENT_SOURCES = ['force-app/**/lwc/**/*.ts'];
const COMPONENT_TESTS = ['force-app/**/lwc/**/__tests__/**/*.js', 'force-app/test/**/*.js'];

const scoped = (configs, files) => configs.map((config) => ({ ...config, files }));

module.exports = [
  {
    ignores: [
      '**/node_modules/**',
      'relation-bridge/**',
      'scripts/**',
      '*.config.js',
      // The .js beside each component's .ts is the build's output (npm run lwc:build).
      'force-app/**/lwc/*/*.js',
      'force-app/**/lwc/types/**',
      'coverage/**',
      'data/**',
    ],
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
