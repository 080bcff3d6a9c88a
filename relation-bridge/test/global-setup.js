// Runs once before the bridge's tests: finds out whether PostgreSQL answers, so that the
// store contract tests run on it too, or are skipped with one line saying so.
const { Client } = require('pg');

module.exports = async function globalSetup() {
  const url = process.env.BRIDGE_TEST_POSTGRES_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.BRIDGE_TEST_POSTGRES = url;
  } catch (error) {
    process.env.BRIDGE_TEST_POSTGRES = '';
    process.stdout.write(
      `\nPostgreSQL does not answer at ${url} (${error.message}): the PostgreSQL store tests are skipped.\n`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
};
