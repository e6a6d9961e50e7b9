#!/usr/bin/env node
// Entry point of `npm run check` / `rift-check` (compiled to
// dist/report/check-cli.js): the checker's command line (checker/cli-main.ts)
// with the HTML drawing plugged in for `--html`. It lives here, not in
// checker/, because the checker must not depend on its visualisation.
import { main } from '../checker/cli-main.js';
import { EXIT } from '../checker/exit-codes.js';

// A reader that stops early (`rift-check FILE | head -1`) closes the pipe: the verdict is
// already decided, so finish quietly with it instead of crashing on the write (EPIPE).
let readerGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  readerGone = true;
});

main(process.argv.slice(2), {
  out: (s) => {
    if (!readerGone) process.stdout.write(s);
  },
  err: (s) => process.stderr.write(s),
  // The report's modules load only for --html: start-up time counts on every small check. The path is
  // computed so that the bundle (dist/checker/rift-check.js, scripts/build.mjs) loads the very same
  // unbundled module: the report reads its page assets beside itself.
  writeHtml: async (historyPath, result, outPath) =>
    ((await import(new URL('../report/write.js', import.meta.url).href)) as typeof import('./write.js')).writeReportForHistory(
      historyPath,
      result,
      outPath,
    ),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`rift-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.crash;
  },
);
