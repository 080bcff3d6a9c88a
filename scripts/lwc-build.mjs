#!/usr/bin/env node
// The LWC build step: generates the TypeScript declarations of the Apex methods and custom
// labels that the components import, type-checks the components (strict), and compiles each
// component's .ts into the .js that the platform deploys (.forceignore keeps the .ts out).
// Run it before `sf project deploy`, `sf project convert source` or `sf package version create`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateApexTypes } from './lib/apex-types.mjs';
import { generateLabelTypes } from './lib/label-types.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const source = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'force-app/main/default');
const lwcDir = path.join(source, 'lwc');
const generatedDir = path.join(lwcDir, 'types/generated');

mkdirSync(generatedDir, { recursive: true });
writeFileSync(path.join(generatedDir, 'apex.d.ts'), generateApexTypes(path.join(source, 'classes')));
writeFileSync(
  path.join(generatedDir, 'labels.d.ts'),
  generateLabelTypes(path.join(source, 'labels/CustomLabels.labels-meta.xml')),
);

const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(lwcDir, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write('LWC build failed: fix the TypeScript errors above.\n');
  process.exit(1);
}
process.stdout.write(`LWC build: compiled the components in ${path.relative(root, lwcDir) || lwcDir}\n`);
