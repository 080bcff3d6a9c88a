import type { Link, LinkTarget, SfEnvironment } from '../core/types';
import type { PendingLink } from './pending-links-repository';
import type { LinkErrorText } from './messages';
import { escapeHtml, page } from '../http/pages';

/**
 * The page the admin's browser lands on after Salesforce: self-contained (no external
 * assets), Japanese first, English below. It never shows the authorisation code, the
 * state or any token.
 */

const TARGET_TEXT: Record<LinkTarget, { ja: string; en: string }> = {
  contact: { ja: '取引先責任者', en: 'Contact' },
  lead: { ja: 'リード', en: 'Lead' },
  contact_then_lead: { ja: '取引先責任者 → リード (取引先責任者を優先)', en: 'Contact, then Lead' },
};

const ENVIRONMENT_TEXT: Record<SfEnvironment, { ja: string; en: string }> = {
  production: { ja: '本番環境', en: 'Production' },
  sandbox: { ja: 'Sandbox', en: 'Sandbox' },
  custom: { ja: 'カスタムドメイン (My Domain)', en: 'Custom domain (My Domain)' },
};

export function renderLinkReady(link: Link, created: boolean): string {
  const inbox = link.inboxName ? `${link.inboxName} (${link.inboxId})` : link.inboxId;
  const target = TARGET_TEXT[link.target];
  const environment = ENVIRONMENT_TEXT[link.environment];
  const rows: Array<[string, string, string]> = [
    ['受信箱', 'Inbox', inbox],
    ['Salesforce 組織 ID', 'Org id', link.orgId],
    ['インスタンス', 'Instance', link.instanceUrl],
    ['環境', 'Environment', `${environment.ja} / ${environment.en}`],
    ['認証ユーザー', 'Authorised user', link.authorizedUsername],
    ['行動の作成先', 'Events are created on', `${target.ja} / ${target.en}`],
    ['既定の割り当て先', 'Default owner', link.defaultOwnerId],
  ];
  const list = rows
    .map(
      ([ja, en, value]) =>
        `<dt>${escapeHtml(ja)}<br><span class="en" lang="en">${escapeHtml(en)}</span></dt><dd>${escapeHtml(value)}</dd>`,
    )
    .join('\n');
  const [titleJa, titleEn] = created
    ? ['連携が完了しました', 'The link is ready']
    : ['再認証が完了しました', 'The link is authorised again'];
  return page(
    'ok',
    titleJa,
    titleEn,
    `<dl>\n${list}\n</dl>
<p>これ以降にこの受信箱で行われた行動が Salesforce に同期されます。このウィンドウは閉じてかまいません。</p>
<p class="en" lang="en">Actions taken in this inbox from now on are synced as Salesforce Events. You can close this window.</p>`,
  );
}

/** A pending link started by a script: Salesforce allowed access; the target is still to be chosen. */
export function renderPendingLinkReady(pending: PendingLink): string {
  const inbox = pending.inboxName ? `${pending.inboxName} (${pending.inboxId})` : pending.inboxId;
  const rows: Array<[string, string, string]> = [
    ['受信箱', 'Inbox', inbox],
    ['Salesforce 組織 ID', 'Org id', pending.orgId],
    ['認証ユーザー', 'Authorised user', pending.username],
    ['未完了の連携 ID', 'Pending link id', pending.id],
  ];
  const list = rows
    .map(
      ([ja, en, value]) =>
        `<dt>${escapeHtml(ja)}<br><span class="en" lang="en">${escapeHtml(en)}</span></dt><dd>${escapeHtml(value)}</dd>`,
    )
    .join('\n');
  return page(
    'ok',
    'Salesforce の認証が完了しました',
    'Salesforce access is allowed',
    `<dl>\n${list}\n</dl>
<p>コンソールで行動の作成先を選び、[完了] をクリックすると連携が作成されます (30 分以内)。</p>
<p class="en" lang="en">Choose where Events are created in the console and press Done to create the link (within 30 minutes), or call POST /api/v1/pending-links/${escapeHtml(pending.id)}/complete.</p>`,
  );
}

export interface SalesforceSaid {
  error: string;
  description: string | null;
}

export function renderLinkFailed(code: string, text: LinkErrorText, salesforce: SalesforceSaid | null): string {
  const said = salesforce?.description
    ? `${salesforce.error}: ${salesforce.description.slice(0, 300)}`
    : salesforce?.error;
  const detail = said ? `<p>Salesforce: <code>${escapeHtml(said)}</code></p>` : '';
  return page(
    'fail',
    'Salesforce との連携を完了できませんでした',
    'Linking to Salesforce did not complete',
    `<p>${escapeHtml(text.ja)}</p>
<hr>
<p class="en" lang="en">${escapeHtml(text.en)}</p>
${detail}
<p class="en">(${escapeHtml(code)})</p>`,
  );
}
