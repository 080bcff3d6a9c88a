import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import { notFound } from '../http/errors';

/**
 * Serves the console: one HTML shell for every path under /console (the browser routes),
 * the compiled scripts from `dist/console` and the stylesheet. Nothing comes from another
 * origin, and the content security policy says so.
 */

export const CONSOLE_PATH = '/console';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The relation-bridge package folder, whether this runs from src/ (tsx) or dist/src/ (compiled). */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '../..');
    dir = parent;
  }
}

export interface ConsoleAssets {
  /** The compiled browser scripts (`npm run build:console`). */
  scriptsDir: string;
  /** The stylesheet, served as it is. */
  stylesheet: string;
}

export function defaultConsoleAssets(): ConsoleAssets {
  const root = packageRoot();
  return {
    scriptsDir: path.join(root, 'dist', 'console'),
    stylesheet: path.join(root, 'src', 'console', 'web', 'console.css'),
  };
}

const SHELL = `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Re:lation ⇄ Salesforce 連携コンソール</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
<script type="module" src="${CONSOLE_PATH}/assets/main.js"></script>
</head>
<body>
<div id="app"><noscript>このコンソールには JavaScript が必要です。/ The console needs JavaScript.</noscript></div>
</body>
</html>
`;

const NOT_BUILT = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><p>コンソールがビルドされていません: <code>npm run build:console -w relation-bridge</code></p>
<p lang="en">The console is not built: run <code>npm run build:console -w relation-bridge</code>.</p></body></html>
`;

export function createConsoleRouter(assets: ConsoleAssets = defaultConsoleAssets()): express.Router {
  const router = express.Router();
  const securityHeaders = (res: express.Response) =>
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    });

  router.get('/', (_req, res) => {
    res.redirect(302, `${CONSOLE_PATH}/`);
  });

  router.get(`${CONSOLE_PATH}/assets/console.css`, (_req, res) => {
    securityHeaders(res);
    res.type('css').sendFile(assets.stylesheet);
  });

  // The browser asks for `./api` (imports without extensions, as in the rest of the code):
  // `extensions` finds api.js.
  router.use(
    `${CONSOLE_PATH}/assets`,
    (_req, res, next) => {
      securityHeaders(res);
      next();
    },
    express.static(assets.scriptsDir, { extensions: ['js'], index: false, maxAge: 0 }),
    notFound('console asset'),
  );

  router.get([CONSOLE_PATH, `${CONSOLE_PATH}/*rest`], (_req, res) => {
    securityHeaders(res);
    res.set('Cache-Control', 'no-store');
    if (!fs.existsSync(path.join(assets.scriptsDir, 'main.js'))) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.type('html').send(SHELL);
  });

  return router;
}
