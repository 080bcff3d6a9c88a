/**
 * The login and approval pages of the authorize endpoint: plain, bilingual (Japanese
 * first, as a Japanese org shows them), every input labelled, so that a person or a
 * browser test can drive them.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; background: #f3f3f3; margin: 0; }
main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
h1 { font-size: 1.3rem; margin-top: 0; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 0.5rem; font-size: 1rem; }
button { margin-top: 1.25rem; padding: 0.6rem 1.2rem; font-size: 1rem; cursor: pointer; }
.allow { background: #0176d3; color: #fff; border: none; border-radius: 4px; }
.deny { background: #fff; border: 1px solid #888; border-radius: 4px; margin-left: 0.5rem; }
.error { color: #b00020; background: #fde7e9; padding: 0.5rem; border-radius: 4px; }
.note { color: #555; font-size: 0.9rem; }
</style>
</head>
<body><main>
${content}
</main></body>
</html>`;
}

export interface LoginPageInput {
  action: string;
  transaction: string;
  hostLabel: string;
  error: string | null;
  username: string;
}

export function loginPage(input: LoginPageInput): string {
  const error = input.error === null ? '' : `<p class="error" role="alert">${escapeHtml(input.error)}</p>\n`;
  return layout(
    'ログイン / Log In',
    `<h1>ログイン / Log In</h1>
<p class="note">${escapeHtml(input.hostLabel)}</p>
${error}<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transaction)}">
<label for="username">ユーザー名 / Username</label>
<input type="text" id="username" name="username" autocomplete="username" value="${escapeHtml(input.username)}" required>
<label for="password">パスワード / Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" class="allow" id="login">ログイン / Log In</button>
</form>`,
  );
}

export interface ApprovalPageInput {
  action: string;
  transaction: string;
  appName: string;
  username: string;
  scopes: string[];
}

const SCOPE_LABELS: Record<string, string> = {
  api: 'API を使用してユーザーデータを管理 / Manage user data via APIs',
  refresh_token: 'いつでも要求を実行 / Perform requests at any time',
  offline_access: 'いつでも要求を実行 / Perform requests at any time',
  id: '識別情報 URL サービスにアクセス / Access the identity URL service',
  openid: '一意のユーザー識別子にアクセス / Access unique user identifiers',
  web: 'Web ブラウザを使用してユーザーデータを管理 / Manage user data via Web browsers',
  full: 'すべてのデータにアクセス / Full access',
};

export function approvalPage(input: ApprovalPageInput): string {
  const scopes = [...new Set(input.scopes.map((scope) => SCOPE_LABELS[scope] ?? scope))]
    .map((label) => `<li>${escapeHtml(label)}</li>`)
    .join('\n');
  return layout(
    'アクセスを許可しますか? / Allow access?',
    `<h1>アクセスを許可しますか? / Allow access?</h1>
<p><strong>${escapeHtml(input.appName)}</strong> が次の操作を要求しています。/ ${escapeHtml(input.appName)} is asking to:</p>
<ul>
${scopes}
</ul>
<p class="note">ユーザー / User: ${escapeHtml(input.username)}</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transaction)}">
<button type="submit" class="allow" name="decision" value="allow" id="allow">許可 / Allow</button>
<button type="submit" class="deny" name="decision" value="deny" id="deny">拒否 / Deny</button>
</form>`,
  );
}

export function errorPage(code: string, description: string): string {
  return layout(
    'エラー / Error',
    `<h1>エラー / Error</h1>
<p class="error" role="alert">error=${escapeHtml(code)}&amp;error_description=${escapeHtml(description)}</p>`,
  );
}
