/** One jest run for both halves of the project. */
const { jestConfig: lwcJestConfig } = require('@salesforce/sfdx-lwc-jest/config');

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  projects: [
    {
      // The package's Lightning web components, run from their TypeScript sources.
      ...lwcJestConfig,
      displayName: 'lwc',
      rootDir: __dirname,
      roots: ['<rootDir>/force-app'],
      testMatch: ['**/lwc/**/__tests__/**/*.test.js'],
      setupFilesAfterEnv: [...(lwcJestConfig.setupFilesAfterEnv ?? []), '<rootDir>/force-app/test/jest-setup.js'],
      moduleNameMapper: {
        '^lightning/empApi$': '<rootDir>/force-app/test/jest-mocks/lightning/empApi.js',
      },
    },
    {
      // The offline checks of the Salesforce package, run against deliberately broken copies.
      displayName: 'package-checks',
      rootDir: __dirname,
      testEnvironment: 'node',
      roots: ['<rootDir>/scripts'],
      testMatch: ['**/__tests__/**/*.test.js'],
    },
    '<rootDir>/relation-bridge/jest.config.js',
  ],
};
