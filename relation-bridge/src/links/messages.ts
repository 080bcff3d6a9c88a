import { packageFixText, type PackageProblem } from '../salesforce/package-access';

/**
 * What an admin reads when linking fails, in both languages, keyed by the BridgeError code
 * that the links service throws. The callback page shows these; the admin API returns the
 * code and the English text, so that a console can show the Japanese one from the code.
 */
export interface LinkErrorText {
  ja: string;
  en: string;
}

/** A link refused for the package: the fix, for the user who signed in (`{username}`), and to link again. */
function refusedForPackage(problem: PackageProblem): LinkErrorText {
  const fix = packageFixText(problem, '{username}');
  return {
    ja: `連携は作成されていません。${fix.ja}その後、もう一度連携してください。`,
    en: `No link was made. ${fix.en} Then link again.`,
  };
}

export const LINK_ERROR_TEXT: Record<string, LinkErrorText> = {
  link_exists: {
    ja: 'この受信箱にはすでに Salesforce 連携があります。受信箱ごとに連携は 1 つだけです。変更するには既存の連携を編集するか、削除してから作り直してください。',
    en: 'This inbox is already linked to Salesforce. An inbox has one link at most: change the existing link, or delete it before creating another.',
  },
  invalid_state: {
    ja: '認証の要求が見つからないか、有効期限 (10 分) が切れています。もう一度最初から連携を作成してください。',
    en: 'This authorisation request is unknown, was already used, or has expired (10 minutes). Start the link again.',
  },
  access_denied: {
    ja: 'Salesforce で「許可」が選ばれなかったため、連携は作成されていません。',
    en: 'Access was not allowed in Salesforce, so no link was created.',
  },
  authorization_failed: {
    ja: 'Salesforce が認証を拒否しました。アプリ (パッケージ) が組織にインストールされ、ユーザーに使用が許可されているか確認してください。',
    en: 'Salesforce refused the authorisation. Check that the package (its OAuth app) is installed in the org and that the user may use it.',
  },
  invalid_callback: {
    ja: 'Salesforce からの応答に認可コードがありません。もう一度連携を作成してください。',
    en: 'The answer from Salesforce carries no authorisation code. Start the link again.',
  },
  token_exchange_failed: {
    ja: 'Salesforce からトークンを取得できませんでした。もう一度連携を作成してください。',
    en: 'The bridge could not obtain tokens from Salesforce. Start the link again.',
  },
  api_access_missing: {
    ja: 'この組織またはユーザーは API を使用できません。API が利用できるエディション (Enterprise、Unlimited、Developer など) で、ユーザーのプロファイルまたは権限セットに「API の有効化」が必要です。',
    en: 'This org or user has no API access. The org needs an edition with API access (Enterprise, Unlimited, Developer…) and the user needs the "API Enabled" permission in their profile or a permission set.',
  },
  package_missing: refusedForPackage('package_missing'),
  field_access_missing: refusedForPackage('field_access_missing'),
  org_mismatch: {
    ja: '再認証で別の Salesforce 組織にログインしました。連携済みの組織にログインしてください。別の組織へ切り替えるには、連携を削除して作り直してください。',
    en: 'The re-authentication signed in to a different Salesforce org. Sign in to the linked org; to move to another org, delete the link and create a new one.',
  },
  user_mismatch: {
    ja: '再認証は、連携を認証したユーザーで行ってください。別のユーザーに切り替えるには、連携を削除して作り直してください。',
    en: 'Re-authenticate as the user who authorised the link. To use another user, delete the link and create a new one.',
  },
  owner_not_found: {
    ja: '既定の割り当て先ユーザーが、この組織の有効なユーザーとして見つかりません。',
    en: 'The default owner is not an active user of this org.',
  },
  invalid_owner_id: {
    ja: '既定の割り当て先は、005 で始まる 15 桁または 18 桁の Salesforce ユーザー ID で指定してください。',
    en: 'The default owner must be a Salesforce User id: 15 or 18 characters starting with 005.',
  },
  no_refresh_token: {
    ja: 'Salesforce がリフレッシュトークンを発行しませんでした。OAuth アプリのスコープに refresh_token (offline_access) が必要です。',
    en: 'Salesforce issued no refresh token: the OAuth app must grant the refresh_token (offline_access) scope.',
  },
  link_deleted: {
    ja: 'この連携は削除されています。受信箱に新しい連携を作成してください。',
    en: 'The link is deleted; create a new link for the inbox instead.',
  },
  link_changed: {
    ja: 'この連携設定は、このページを開いた後に別のタブまたは別の管理者によって変更されています。その変更を打ち消さないよう、保存していません。最新の設定を読み込んでから、もう一度変更してください。',
    en: 'This link was changed in another tab or by another admin after this page was opened. Nothing was saved, so as not to undo that change: load the current settings, then change them again.',
  },
  link_not_found: {
    ja: '連携が見つかりません。削除された可能性があります。',
    en: 'The link was not found; it may have been deleted.',
  },
  session_mismatch: {
    ja: 'この認証は別のサインイン (別のブラウザーまたはサインアウト前) で開始されたため、完了できません。コンソールからもう一度やり直してください。何も保存されていません。',
    en: 'This authorisation was started in another sign-in (another browser, or before signing out), so it cannot complete here. Start again from the console; nothing was saved.',
  },
  pending_link_not_found: {
    ja: '未完了の連携設定が見つからないか、有効期限 (30 分) が切れています。もう一度最初から連携を作成してください。',
    en: 'The unfinished link was not found or has expired (30 minutes). Start the link again.',
  },
  auth_not_found: {
    ja: 'この認証はブリッジにもうありません。新しい認証を追加してください。',
    en: 'The bridge no longer holds this authorisation. Add a new authentication instead.',
  },
  auth_needs_reauth: {
    ja: 'この認証は期限切れか取り消されています。使用中の連携を再認証するか、新しい認証を追加してください。',
    en: 'This authorisation has expired or was revoked. Re-authenticate a link that uses it, or add a new authentication.',
  },
  salesforce_unavailable: {
    ja: 'Salesforce に接続できませんでした。しばらくしてからもう一度お試しください。',
    en: 'Salesforce could not be reached. Try again in a moment.',
  },
  internal_error: {
    ja: '予期しないエラーが発生しました。ブリッジのログを確認してください。',
    en: 'Something unexpected failed. See the bridge log.',
  },
};

const SIGNED_IN_USER: LinkErrorText = { ja: 'サインインしたユーザー', en: 'the user who signed in' };

/** The text for a code; `{username}` becomes the Salesforce user the error's details name. */
export function linkErrorText(code: string, details?: unknown): LinkErrorText {
  const text = LINK_ERROR_TEXT[code] ?? (LINK_ERROR_TEXT.internal_error as LinkErrorText);
  const named = (details as { username?: unknown } | null | undefined)?.username;
  const username = (language: keyof LinkErrorText) => (typeof named === 'string' ? named : SIGNED_IN_USER[language]);
  return {
    ja: text.ja.replaceAll('{username}', username('ja')),
    en: text.en.replaceAll('{username}', username('en')),
  };
}
