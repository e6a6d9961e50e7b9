// `npm run build`: compile with tsc into dist/, copy non-TypeScript assets,
// and stamp the build so scripts/ensure-built.mjs can skip a fresh build.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { SOURCE_DIRS } from './source-dirs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tscBin = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
// tsc emits JavaScript even when it reports type errors. `npm run build`
// (and so `npm test` and CI) fails on them; RIFT_BUILD_LENIENT=1 (used by the
// test suites' global setup during development) keeps the emitted files.
// A clean dist/: a file moved or deleted in the sources must not live on as
// stale JavaScript that a test or a command could still load.
rmSync(join(root, 'dist'), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tscBin, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
} catch (error) {
  if (process.env.RIFT_BUILD_LENIENT !== '1') {
    process.stderr.write('rift: tsc reported errors (above); build failed\n');
    process.exit(1);
  }
  process.stderr.write('rift: tsc reported type errors (kept the emitted JavaScript because RIFT_BUILD_LENIENT=1)\n');
}

// Static assets (HTML templates, browser scripts) live beside their sources.
function copyAssets(dir) {
  if (!existsSync(join(root, dir))) return;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(rel);
    else if (/\.(html|css|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      mkdirSync(join(root, 'dist', dir), { recursive: true });
      cpSync(join(root, rel), join(root, 'dist', rel));
    }
  }
}
for (const d of SOURCE_DIRS) copyAssets(d);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
