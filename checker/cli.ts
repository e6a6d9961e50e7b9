#!/usr/bin/env node
// Entry point of `npm run check` / `rift-check` (compiled to dist/checker/cli.js).
import { EXIT_INTERNAL, main } from './cli-main.js';

main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`rift-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
