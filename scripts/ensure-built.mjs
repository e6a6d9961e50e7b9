// Rebuilds dist/ with tsc when any TypeScript source is newer than the last
// build, so `npm run jepsen`, `npm run check` etc. work straight after
// `npm ci` on a fresh clone and never run stale JavaScript.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
import { SOURCE_DIRS as sourceDirs } from './source-dirs.mjs';

function newestMtimeMs(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.html') || entry.name.endsWith('.js'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sourcesMs = Math.max(...sourceDirs.map((d) => newestMtimeMs(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
const builtMs = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (sourcesMs > builtMs) {
  process.stderr.write('rift: compiling TypeScript (tsc)...\n');
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
  } catch {
    process.stderr.write('rift: build failed; fix the errors above and run again\n');
    process.exit(255);
  }
}
