import { PACKAGE_APP_LABEL, PACKAGE_PERMISSION_SETS } from '../salesforce/package-names';
import type { NoticeCode, NoticeDetails } from './link-notices-repository';

/**
 * What the notice e-mails say, in Japanese and English: for each problem, what happened, what
 * it does to the sync, and what to do. The same sentences (in English) are the problems'
 * messages in the admin API.
 */

export type NoticeLanguage = 'ja' | 'en';

/** Salesforce keeps at most this many approvals of one app per user; the next revokes the oldest. */
export const APPROVALS_PER_USER_AND_APP = 5;

interface Sections {
  subject: string;
  what: string;
  impact: string;
  fix: string;
}

const PERMISSION_SET = PACKAGE_PERMISSION_SETS.integration.label;

function text(details: NoticeDetails, name: string, fallback = ''): string {
  const value = details[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}

/** A time as the reader reads it: Japan time in Japanese, UTC in English. */
export function formatTime(iso: string | null, language: NoticeLanguage): string {
  if (iso === null || Number.isNaN(Date.parse(iso))) return language === 'ja' ? '(不明)' : '(unknown)';
  const date = new Date(iso);
  if (language === 'ja') {
    const formatted = new Intl.DateTimeFormat('ja-JP', {
      timeZone: 'Asia/Tokyo',
      dateStyle: 'long',
      timeStyle: 'short',
    }).format(date);
    return `${formatted} (日本時間)`;
  }
  const formatted = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(date);
  return `${formatted} UTC`;
}

function timeOf(details: NoticeDetails, name: string, language: NoticeLanguage): string {
  const value = details[name];
  return formatTime(typeof value === 'string' ? value : null, language);
}

/** What the needs_reauth notice says happened, from how Salesforce refused (details.cause). */
function reauthCause(details: NoticeDetails, language: NoticeLanguage): string {
  const user = text(details, 'username');
  const cause = text(details, 'cause', 'token_refused');
  if (language === 'ja') {
    if (cause === 'user_inactive') {
      return `この連携を認証した Salesforce ユーザー ${user} が無効化されたため、Salesforce は連携の認証を受け付けなくなりました。`;
    }
    if (cause === 'api_disabled') {
      return `Salesforce ユーザー ${user} (または組織) の API アクセスが無効になったため、Salesforce は連携の認証を受け付けなくなりました。`;
    }
    return `Salesforce がこの連携の認証 (${user}) を受け付けなくなりました。取り消されたか、組織のポリシーで有効期限が切れた可能性があります。`;
  }
  if (cause === 'user_inactive') {
    return `The Salesforce user who authorised this link, ${user}, has been deactivated, so Salesforce no longer accepts the link's authorisation.`;
  }
  if (cause === 'api_disabled') {
    return `The Salesforce user ${user} (or the org) has lost API access, so Salesforce no longer accepts the link's authorisation.`;
  }
  return `Salesforce no longer accepts this link's authorisation (${user}): it was revoked, or the org's policy let it expire.`;
}

function sections(code: NoticeCode, inbox: string, details: NoticeDetails, language: NoticeLanguage): Sections {
  const user = text(details, 'username');
  const ja = language === 'ja';
  switch (code) {
    case 'needs_reauth':
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce 連携は再認証が必要です`,
            what: reauthCause(details, language),
            impact: '同期は止まっています。この間の操作は失われずに保留されており、再認証すると同期されます。',
            fix: '管理画面の「チケット同期連携設定」で「再認証」を押し、API アクセスのある有効な Salesforce ユーザーでログインして許可してください。',
          }
        : {
            subject: `The Salesforce link of the inbox "${inbox}" needs re-authentication`,
            what: reauthCause(details, language),
            impact:
              'Syncing has stopped. Actions taken meanwhile are not lost: they are held, and sync once the link is re-authenticated.',
            fix: 'In the console, open the inbox\'s ticket sync settings, press "Re-authenticate" and allow access as an active Salesforce user with API access.',
          };
    case 'org_paused': {
      const until = timeOf(details, 'pausedUntil', language);
      const used = text(details, 'apiUsed', '?');
      const max = text(details, 'apiMax', '?');
      return ja
        ? {
            subject: `受信箱「${inbox}」の同期を Salesforce の API 上限のため一時停止しています`,
            what: `Salesforce 組織の 1 日の API リクエスト (使用量 ${used} / ${max}) か、このブリッジに割り当てた分を使い切ったため、組織への同期を ${until} まで一時停止しています。`,
            impact: '操作は失われません。API の使用量が減ると同期は自動で再開し、保留中の操作が同期されます。',
            fix: '急ぐ場合は、Salesforce 管理者に組織の API 使用状況 (設定 → 組織情報) を確認してもらうか、ブリッジの運用者に割り当て (SYNC_API_BUDGET_SHARE) の見直しを依頼してください。',
          }
        : {
            subject: `Syncing of the inbox "${inbox}" is paused for Salesforce's API limit`,
            what: `The Salesforce org has used its daily API requests (${used} of ${max}), or the share given to this bridge, so syncing to the org is paused until ${until}.`,
            impact:
              'No action is lost: syncing resumes by itself once the usage goes down, and the waiting actions sync then.',
            fix: "If it cannot wait, ask the Salesforce admin to look at the org's API usage (Setup → Company Information), or the bridge's operator to review its share (SYNC_API_BUDGET_SHARE).",
          };
    }
    case 'package_missing':
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce 組織に連携パッケージがありません`,
            what: 'Salesforce 組織に Re:lation Inbox Bridge パッケージがインストールされていないため、行動にヘルプデスクの項目を書き込めません。',
            impact: '操作は保留しています。対処後、数分以内に同期されます。',
            fix: `Salesforce 管理者にパッケージをインストールしてもらい、権限セット「${PERMISSION_SET}」を ${user} に割り当ててください。`,
          }
        : {
            subject: `The Salesforce org of the inbox "${inbox}" lacks the link's package`,
            what: 'The Re:lation Inbox Bridge package is not installed in the Salesforce org, so Events cannot carry their helpdesk fields.',
            impact: 'Actions are held, and sync within minutes once it is fixed.',
            fix: `Ask the Salesforce admin to install the package, then to assign the permission set "${PERMISSION_SET}" to ${user}.`,
          };
    case 'field_access_missing':
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce ユーザーに項目の権限がありません`,
            what: `Salesforce ユーザー ${user} には、行動のヘルプデスク項目 (パッケージの項目) を書き込む権限がありません。`,
            impact: '操作は保留しています。対処後、数分以内に同期されます。',
            fix: `権限セット「${PERMISSION_SET}」を ${user} に割り当ててください (設定 → 権限セット → 割り当ての管理)。`,
          }
        : {
            subject: `The Salesforce user of the inbox "${inbox}" lacks field access`,
            what: `The Salesforce user ${user} may not write the package's helpdesk fields on Events.`,
            impact: 'Actions are held, and sync within minutes once it is fixed.',
            fix: `Assign the permission set "${PERMISSION_SET}" to ${user} (Setup → Permission Sets → Manage Assignments).`,
          };
    case 'user_inactive':
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce 連携: 認証したユーザーが無効化されています`,
            what: `この連携を認証した Salesforce ユーザー ${user} は、Salesforce で無効化されています。`,
            impact: '次にトークンを使うときに Salesforce が認証を拒否し、同期が止まります (操作は保留されます)。',
            fix: '止まる前に、管理画面の「再認証」から、API アクセスのある別の有効なユーザーで認証し直してください。',
          }
        : {
            subject: `The Salesforce link of the inbox "${inbox}": its user has been deactivated`,
            what: `The Salesforce user who authorised this link, ${user}, has been deactivated in Salesforce.`,
            impact:
              'The next time the link uses its token, Salesforce refuses it and syncing stops (actions are then held).',
            fix: 'Before it stops, re-authenticate the link in the console as another active user with API access.',
          };
    case 'user_frozen':
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce 連携: 認証したユーザーが凍結されています`,
            what: `この連携を認証した Salesforce ユーザー ${user} は、Salesforce で凍結されています。`,
            impact:
              '凍結中はトークンを更新できないため、今のセッションが切れると同期が止まります (操作は保留されます)。',
            fix: `Salesforce 管理者に ${user} の凍結を解除してもらうか、管理画面の「再認証」から別の有効なユーザーで認証し直してください。`,
          }
        : {
            subject: `The Salesforce link of the inbox "${inbox}": its user is frozen`,
            what: `The Salesforce user who authorised this link, ${user}, is frozen in Salesforce.`,
            impact:
              "A frozen user's token cannot be renewed: syncing stops when the current session ends (actions are then held).",
            fix: `Ask the Salesforce admin to unfreeze ${user}, or re-authenticate the link in the console as another active user.`,
          };
    case 'token_expiring': {
      const ended = details.expiresAt === null || details.expiresAt === undefined;
      const at = timeOf(details, 'expiresAt', language);
      return ja
        ? {
            subject: ended
              ? `受信箱「${inbox}」の Salesforce 連携: 更新トークンが無効になっています`
              : `受信箱「${inbox}」の Salesforce 連携: 認証が ${at} に失効します`,
            what: ended
              ? `組織の更新トークンのポリシーにより、${user} の更新トークンはすでに使えません。`
              : `組織の更新トークンのポリシーにより、${user} による認証は ${at} に失効します。`,
            impact: ended
              ? '今のセッションが切れると同期が止まります (操作は保留されます)。'
              : 'その時点で同期が止まります (操作は保留されます)。',
            fix: `${ended ? 'すぐに' : '期限までに'}管理画面の「再認証」で認証し直してください。繰り返さないためには、Salesforce 管理者に、外部クライアントアプリケーション「${PACKAGE_APP_LABEL}」の更新トークンポリシーを「取り消されるまで有効」にするよう依頼してください。`,
          }
        : {
            subject: ended
              ? `The Salesforce link of the inbox "${inbox}": its refresh token no longer works`
              : `The Salesforce link of the inbox "${inbox}" expires on ${at}`,
            what: ended
              ? `The org's refresh token policy has already ended ${user}'s refresh token.`
              : `The org's refresh token policy ends ${user}'s authorisation of this link on ${at}.`,
            impact: ended
              ? 'Syncing stops when the current session ends (actions are then held).'
              : 'Syncing stops then (actions are then held).',
            fix: `Re-authenticate the link in the console ${ended ? 'now' : 'before then'}. So that it does not happen again, ask the Salesforce admin to set the refresh token policy of the External Client App "${PACKAGE_APP_LABEL}" to "Refresh token is valid until revoked".`,
          };
    }
    case 'approval_limit': {
      const count = text(details, 'count', String(APPROVALS_PER_USER_AND_APP));
      const oldest = timeOf(details, 'oldestAt', language);
      const ours = details.oursIsOldest === true;
      return ja
        ? {
            subject: `受信箱「${inbox}」の Salesforce 連携: 次の承認で古い認証が取り消されます`,
            what: `Salesforce ユーザー ${user} は、アプリケーション「${PACKAGE_APP_LABEL}」を ${count} 回承認しています。Salesforce が 1 ユーザー・1 アプリケーションに保持する承認は ${APPROVALS_PER_USER_AND_APP} 件までで、${user} がもう一度承認すると、最も古い承認 (${oldest}) が通知なく取り消されます。${ours ? 'それはこの連携が使っている承認です。' : ''}`,
            impact: ours
              ? 'この連携の認証が取り消されると同期が止まります (操作は保留されます)。'
              : 'この連携の認証が次に取り消される順番に近づいています。',
            fix: `別の受信箱を連携するときは「新しい認証を追加」ではなく、すでにある ${user} の認証を選んでください。使っていない承認は、Salesforce の ${user} の個人設定 (接続アプリケーション) で取り消せます。`,
          }
        : {
            subject: `The Salesforce link of the inbox "${inbox}": one more approval revokes an older one`,
            what: `The Salesforce user ${user} has approved the app "${PACKAGE_APP_LABEL}" ${count} times. Salesforce keeps at most ${APPROVALS_PER_USER_AND_APP} approvals per user and app: one more approval by ${user} silently revokes the oldest (${oldest}).${ours ? ' That is the one this link uses.' : ''}`,
            impact: ours
              ? "If this link's authorisation is revoked, syncing stops (actions are then held)."
              : "This link's authorisation is getting closer to being the one revoked next.",
            fix: `When linking another inbox, choose ${user}'s existing authorisation instead of adding a new one. Approvals no longer used can be revoked in ${user}'s personal settings in Salesforce (Connected Apps).`,
          };
    }
  }
}

/** The one-line summary of a problem, in English with the fix: the admin API's message. */
export function noticeSummary(code: NoticeCode, details: NoticeDetails, inbox: string): string {
  const parts = sections(code, inbox, details, 'en');
  return `${parts.what} ${parts.impact} ${parts.fix}`;
}

export interface NoticeMessageInput {
  code: NoticeCode;
  details: NoticeDetails;
  language: NoticeLanguage;
  recipientName: string;
  inbox: { id: string; name: string };
  link: { instanceUrl: string; orgId: string; username: string };
  /** Where the inbox's ticket sync settings are in the console. */
  consoleUrl: string;
}

/** The notice e-mail: its subject and plain-text body. */
export function noticeMessage(input: NoticeMessageInput): { subject: string; text: string } {
  const { language, inbox, link } = input;
  const parts = sections(input.code, inbox.name, input.details, language);
  const org = `${link.instanceUrl} (${link.orgId})`;
  if (language === 'ja') {
    return {
      subject: `【Re:lation ⇄ Salesforce】${parts.subject}`,
      text: [
        `${input.recipientName} 様`,
        '',
        'Re:lation ⇄ Salesforce チケット同期連携からのお知らせです。',
        '',
        `受信箱: ${inbox.name} (ID ${inbox.id})`,
        `Salesforce 組織: ${org}`,
        `認証したユーザー: ${link.username}`,
        '',
        `■ 起きていること\n${parts.what}`,
        '',
        `■ 同期への影響\n${parts.impact}`,
        '',
        `■ 対処\n${parts.fix}`,
        '',
        `管理画面: ${input.consoleUrl}`,
        '',
        '--',
        'このメールは受信箱の管理者に、問題ごとに一度だけ送っています。解決したあとに再び起きたときは、あらためてお知らせします。',
        'メールの言語は管理画面の言語の切り替えで変えられます。',
      ].join('\n'),
    };
  }
  return {
    subject: `[Re:lation ⇄ Salesforce] ${parts.subject}`,
    text: [
      `Hello ${input.recipientName},`,
      '',
      'This is a notice from the Re:lation ⇄ Salesforce ticket sync.',
      '',
      `Inbox: ${inbox.name} (id ${inbox.id})`,
      `Salesforce org: ${org}`,
      `Authorised by: ${link.username}`,
      '',
      `What happened\n${parts.what}`,
      '',
      'What it does to the sync\n' + parts.impact,
      '',
      `What to do\n${parts.fix}`,
      '',
      `Console: ${input.consoleUrl}`,
      '',
      '--',
      "This e-mail goes to the inbox's admins once per problem; should it come back after it was resolved, you will be told again.",
      "Its language follows the one you choose in the console's language switch.",
    ].join('\n'),
  };
}
