import fs from 'node:fs';
import path from 'node:path';
import { generatedFiles, ROOT } from './docs/generated-files';

/** Writes every file generated from the code (scripts/docs/generated-files.ts). `--check`: only says which drifted. */
async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let drifted = 0;
  for (const { file, content } of await generatedFiles()) {
    const target = path.join(ROOT, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (current === content) continue;
    drifted += 1;
    if (check) process.stdout.write(`out of date: ${file}\n`);
    else {
      fs.writeFileSync(target, content);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  if (check && drifted > 0) process.exitCode = 1;
}

void main();
