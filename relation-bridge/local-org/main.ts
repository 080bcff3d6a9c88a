import { createDemoSandbox, seedDemoOrg } from './seed';
import { startLocalSalesforce } from './server';

/**
 * Runs the local org on its own: `npm run local-org -w relation-bridge`.
 * LOCAL_ORG_PORT (default 4010), LOCAL_ORG_HOST (default 127.0.0.1) and
 * LOCAL_ORG_CALLBACK_URLS (comma-separated) configure it; one production org and one
 * sandbox org are created and seeded with the Japanese sample data.
 */
async function main(): Promise<void> {
  const port = Number(process.env.LOCAL_ORG_PORT ?? 4010);
  const host = process.env.LOCAL_ORG_HOST ?? '127.0.0.1';
  const callbackUrls = (process.env.LOCAL_ORG_CALLBACK_URLS ?? 'http://127.0.0.1:8080/oauth/callback')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const sf = await startLocalSalesforce({ port, host, callbackUrls });
  const production = sf.createOrg({ name: 'Demo Company' });
  const { org: sandbox, seeded: sandboxSeeded } = createDemoSandbox(sf, 'Demo Company');
  const seeded = [seedDemoOrg(production), sandboxSeeded];

  const lines = [
    `local Salesforce org listening on ${sf.baseUrl}`,
    `  production login URL: ${sf.productionLoginUrl}`,
    `  sandbox login URL:    ${sf.sandboxLoginUrl}`,
    `  client id:            ${sf.app.clientId}`,
    `  callback URLs:        ${sf.app.callbackUrls.join(', ')}`,
    `  control API:          ${sf.baseUrl}/__local`,
  ];
  [production, sandbox].forEach((org, index) => {
    const data = seeded[index];
    lines.push(
      `  org "${org.name}"${org.sandbox ? ' (sandbox)' : ''}: ${org.orgId}`,
      `    instance URL: ${org.instanceUrl}`,
      `    ${data?.contacts.length ?? 0} contacts, ${data?.leads.length ?? 0} leads`,
      ...(data?.users ?? []).map(
        (user) => `    user ${user.username} / ${user.password}${user.isActive ? '' : ' (inactive)'}`,
      ),
    );
  });
  process.stdout.write(`${lines.join('\n')}\n`);

  const stop = () => {
    void sf.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`local org failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
