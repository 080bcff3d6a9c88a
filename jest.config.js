/** One jest run for both halves of the project. */
/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  projects: ['<rootDir>/relation-bridge/jest.config.js'],
};
