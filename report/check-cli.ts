#!/usr/bin/env node
// Entry point of `npm run check` / `rift-check` (compiled to
// dist/report/check-cli.js): the checker's command line (checker/cli-main.ts)
// with the HTML drawing plugged in for `--html`. It lives here, not in
// checker/, because the checker must not depend on its visualisation.
import { main } from '../checker/cli-main.js';
import { EXIT } from '../checker/exit-codes.js';

main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  // The report's modules load only for --html: start-up time counts on every small check.
  writeHtml: async (historyPath, result, outPath) => (await import('./write.js')).writeReportForHistory(historyPath, result, outPath),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`rift-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.crash;
  },
);
