/**
 * The bridge's few server-rendered pages (the OAuth callback's outcome, error pages): self-
 * contained (no external assets), Japanese first, English below.
 */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;background:#f4f6f9;color:#1b1f24}
main{max-width:40rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .25rem}
h2{font-size:1rem;font-weight:normal;color:#4a5360;margin:0 0 1.5rem}
.ok h1{color:#116329}.fail h1{color:#a40e26}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:1.5rem 0}
dt{color:#4a5360}dd{margin:0;word-break:break-all}
p{line-height:1.6}.en{color:#4a5360}
hr{border:none;border-top:1px solid #dde1e6;margin:1.5rem 0}
code{background:#f0f2f5;padding:0 .25rem;border-radius:3px}
`;

export function page(kind: 'ok' | 'fail', titleJa: string, titleEn: string, body: string): string {
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(titleJa)} / ${escapeHtml(titleEn)}</title>
<style>${STYLE}</style>
</head>
<body>
<main class="${kind}">
<h1>${escapeHtml(titleJa)}</h1>
<h2 lang="en">${escapeHtml(titleEn)}</h2>
${body}
</main>
</body>
</html>
`;
}
