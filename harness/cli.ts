#!/usr/bin/env node
/**
 * `npm run jepsen -- [options]`: parse, run (--test-count times, seeds seed,
 * seed+1, ...), exit with the verdict: 0 valid, 1 invalid, 2 unknown,
 * 254 bad arguments, 255 crash (Jepsen's exit statuses, cli.clj).
 *
 * Ctrl-C once: stop the run (teardown, history kept). Twice: exit now (the
 * cluster's exit hook still kills the nodes synchronously).
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, UsageError, parseOptions, type JepsenOptions } from './options.js';
import { EXIT } from '../checker/exit-codes.js';
import { runTest, type RunOutcome } from './run/run-test.js';
import { worstExitCode } from './run/verdict.js';
import { connectHosts, HostsUnusable, type HostTarget } from './remote/hosts.js';
import { keepRunningWhenReaderCloses } from '../node/util/closed-pipe.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));

export async function main(argv: readonly string[]): Promise<number> {
  let options: JepsenOptions;
  try {
    const parsed = parseOptions(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(HELP);
      return EXIT.valid;
    }
    options = parsed.options;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`rift jepsen: ${err.message}; see --help\n`);
      return EXIT.usage;
    }
    throw err;
  }

  // --hosts: every host must answer before anything starts anywhere (exit 254 otherwise, nothing left running).
  let hosts: HostTarget[] | undefined;
  if (options.hosts !== null) {
    const knownHosts = options.hosts.knownHosts ?? join(options.store, 'known_hosts');
    mkdirSync(options.store, { recursive: true });
    try {
      hosts = await connectHosts(options.hosts, knownHosts);
    } catch (err) {
      if (err instanceof HostsUnusable) {
        await Promise.all(err.remotes.map((r) => r.close()));
        process.stderr.write(`rift jepsen: --hosts: ${err.message}\n(known hosts: ${knownHosts})\n`);
        return EXIT.usage;
      }
      throw err;
    }
    if (!options.quiet) process.stderr.write(`rift jepsen: ${hosts.length} hosts answer over ssh (known hosts: ${knownHosts})\n`);
  }

  const interrupt = new AbortController();
  let sigints = 0;
  const onSigint = (): void => {
    sigints++;
    if (sigints === 1) {
      process.stderr.write('\nrift jepsen: Ctrl-C: stopping the run (again to exit at once)\n');
      interrupt.abort();
    } else {
      process.exit(EXIT.crash);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const outcomes: RunOutcome[] = [];
  try {
    for (let i = 0; i < options.testCount; i++) {
      const seed = options.seed + i;
      if (!options.quiet && options.testCount > 1) process.stderr.write(`\n=== run ${i + 1}/${options.testCount} (seed ${seed}) ===\n`);
      const outcome = await runTest(options, seed, {
        stderr: process.stderr,
        stdout: process.stdout,
        signal: interrupt.signal,
        repoRoot,
        argv,
        runIndex: i,
        ...(hosts !== undefined ? { hosts } : {}),
      });
      outcomes.push(outcome);
      // Stop at the first invalid or crashed run (as Jepsen's --test-count): keep that state in `latest`.
      if (outcome.verdict === false || outcome.verdict === 'crashed' || outcome.verdict === 'interrupted') break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await Promise.all((hosts ?? []).map((h) => h.remote.close()));
  }
  if (options.testCount > 1) {
    const line = outcomes.map((o, i) => `seed ${options.seed + i}: ${String(o.verdict)}`).join(', ');
    const out = options.json ? process.stderr : process.stdout;
    out.write(`\n${outcomes.length}/${options.testCount} runs: ${line}\n`);
  }
  return worstExitCode(outcomes.map((o) => o.exitCode));
}

// Run when executed directly (not when imported by tests).
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  keepRunningWhenReaderCloses();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Nothing should keep the loop alive after a run; make sure of it.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`rift jepsen: crashed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(EXIT.crash);
    },
  );
}
