#!/usr/bin/env node
// The admin CLI, compiled by `npm run build` (production installs have no TypeScript runtime).
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
if (!fs.existsSync(compiled)) {
  process.stderr.write(
    'relation-bridge: the CLI is not built. Run `npm run build -w relation-bridge` first ' +
      '(or, in a development checkout, `npm run cli -w relation-bridge -- …`).\n',
  );
  process.exit(2);
}
require(compiled).main();
