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

// The checker's command line as one module (dist/checker/rift-check.js, the
// `rift-check` / `npm run check` entry): Node's loader resolves, reads and
// compiles each of the ~40 modules behind dist/report/check-cli.js one by
// one, which costs a small check about a third of its wall time (bench/README.md,
// "The checker's start-up"). It lives beside dist/checker/worker.js, which
// check.ts finds relative to itself; the report's --html modules stay
// unbundled (check-cli.ts loads them by path: they read their assets beside
// themselves). dist/report/check-cli.js stays, the same program unbundled.
const { build } = await import('rolldown');
await build({
  input: join(root, 'dist', 'report', 'check-cli.js'),
  platform: 'node',
  logLevel: 'warn',
  external: [/^node:/],
  output: {
    dir: join(root, 'dist', 'checker'),
    format: 'esm',
    entryFileNames: 'rift-check.js',
    chunkFileNames: 'rift-check-[name].js',
  },
});
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
