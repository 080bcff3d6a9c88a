import { createDemoSandbox, type LocalOrg } from '../../local-org';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';

export interface ConsoleAccount {
  id: string;
  email: string;
  name: string;
  password: string;
}

export interface ConsoleHarness extends BridgeHarness {
  owner: ConsoleAccount;
  /** Admin of inboxes 12, 13, 14, 15. */
  inboxAdmin: ConsoleAccount;
  /** Member (read only) of inbox 12. */
  member: ConsoleAccount;
  /** Signed in, but without a role on any inbox. */
  outsider: ConsoleAccount;
  sandbox: { org: LocalOrg; username: string; password: string };
  consoleUrl: string;
}

export const INBOXES = [
  { inboxId: '12', name: '営業窓口' },
  { inboxId: '13', name: '検証窓口' },
  { inboxId: '14', name: 'サポート窓口' },
  { inboxId: '15', name: '採用窓口' },
] as const;

/**
 * The whole bridge next to the local org (a production org seeded with Japanese data, and the
 * demo's sandbox org), with console accounts made through the admin API as a script would: an
 * owner, an inbox admin, a member and a user without a role; four registered inboxes.
 */
export async function startConsoleHarness(
  options: { env?: Record<string, string>; now?: () => number } = {},
): Promise<ConsoleHarness> {
  const harness = await startBridgeHarness({
    startEngine: false,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // The demo's sandbox (scripts/demo.ts makes the same), so the wizard's sandbox path is tried as the demo offers it.
  const demoSandbox = createDemoSandbox(harness.local, 'Yamato Trading');
  const sandbox = {
    org: demoSandbox.org,
    username: demoSandbox.seeded.authorizingUser.username,
    password: demoSandbox.seeded.authorizingUser.password,
  };

  const createUser = async (name: string, email: string, isOwner: boolean): Promise<ConsoleAccount> => {
    const password = `${email.split('@')[0]}-password`;
    const created = await harness.admin<{ user: { id: string } }>('POST', '/users', { name, email, isOwner, password });
    if (created.status !== 201) throw new Error(`creating ${email} answered ${created.status}`);
    return { id: created.body.user.id, email, name, password };
  };
  const owner = await createUser('大和 太郎', 'owner@relation-demo.example.jp', true);
  const inboxAdmin = await createUser('佐藤 花子', 'hanako@relation-demo.example.jp', false);
  const member = await createUser('鈴木 一郎', 'ichiro@relation-demo.example.jp', false);
  const outsider = await createUser('田中 健', 'ken@relation-demo.example.jp', false);
  for (const inbox of INBOXES) {
    const registered = await harness.admin('POST', '/inboxes', inbox);
    if (registered.status !== 201) throw new Error(`registering inbox ${inbox.inboxId} answered ${registered.status}`);
    await harness.admin('PUT', `/inboxes/${inbox.inboxId}/members/${inboxAdmin.id}`, { role: 'admin' });
  }
  await harness.admin('PUT', `/inboxes/12/members/${member.id}`, { role: 'member' });
  return { ...harness, owner, inboxAdmin, member, outsider, sandbox, consoleUrl: `${harness.baseUrl}/console` };
}
