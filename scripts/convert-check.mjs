#!/usr/bin/env node
// Converts the package source to Metadata API format with the Salesforce CLI, as a packaging run
// would (after the LWC build), and checks that the output holds exactly the expected components
// (scripts/lib/package-contents.mjs): none missing, none unexpected (an empty LWC bundle fails a
// deploy with "named in package.xml, but was not found in zipped directory"), and every component
// as JavaScript without its TypeScript.
// Usage: node scripts/convert-check.mjs [project root]   (run scripts/lwc-build.mjs first)
import path from 'node:path';
import {
  checkComponentBundles,
  compareComponents,
  convertPackage,
  expectedComponents,
} from './lib/package-contents.mjs';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const conversion = convertPackage(root);
if (conversion.error) {
  process.stderr.write(`${conversion.error}\n`);
  process.exit(1);
}
const expected = expectedComponents(root);
const problems = [
  ...compareComponents(conversion.components, expected),
  ...checkComponentBundles(conversion.outputDir, expected),
];
conversion.dispose();

for (const problem of problems) process.stdout.write(`${problem}\n`);
const count = [...conversion.components.values()].reduce((sum, members) => sum + members.size, 0);
process.stdout.write(
  `sf project convert source: ${count} components; ${problems.length === 0 ? 'exactly the expected components' : `${problems.length} problem(s)`}\n`,
);
process.exit(problems.length === 0 ? 0 : 1);
