#!/usr/bin/env node
// The admin CLI. A production install (no dev dependencies) runs what `npm run build`
// compiled; a development checkout, where tsx is installed, runs the TypeScript sources, so
// that it never runs a stale build.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const source = path.join(root, 'src', 'cli.ts');
const compiled = path.join(root, 'dist', 'src', 'cli.js');

function tsxInstalled() {
  try {
    require.resolve('tsx/cjs', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (fs.existsSync(source) && tsxInstalled()) {
  require('tsx/cjs');
  require(source).main();
} else if (fs.existsSync(compiled)) {
  require(compiled).main();
} else {
  process.stderr.write('relation-bridge: the CLI is not built: run `npm run build -w relation-bridge` first.\n');
  process.exit(2);
}
