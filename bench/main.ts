// `npm run bench -- <name> [args]`: dispatches to one benchmark. Each is
// loaded with a dynamic import so one benchmark's file can be missing or
// broken without stopping the others from compiling and running.
import { keepRunningWhenReaderCloses } from '../node/util/closed-pipe.js';

const [name, ...args] = process.argv.slice(2);

async function run(): Promise<void> {
  switch (name) {
    case 'checker': {
      const m = (await import('./checker.js')) as { runCheckerBench: (args: string[]) => Promise<void> };
      await m.runCheckerBench(args);
      return;
    }
    case 'cluster': {
      // Written separately; the computed path keeps this file compiling without it.
      const m = (await import('./' + 'cluster.js')) as {
        runClusterBench?: (args: string[]) => Promise<void>;
        default?: (args: string[]) => Promise<void>;
      };
      const f = m.runClusterBench ?? m.default;
      if (f === undefined) throw new Error('bench/cluster.js exports no runClusterBench');
      await f(args);
      return;
    }
    case 'compare': {
      const m = (await import('./compare.js')) as { runCompareBench: (args: string[]) => Promise<void> };
      await m.runCompareBench(args);
      return;
    }
    case 'codec': {
      const m = (await import('./codec.js')) as { runCodecBench: (args: string[]) => Promise<void> };
      await m.runCodecBench(args);
      return;
    }
    case 'latency': {
      const m = (await import('./latency.js')) as { runLatencyBench: (args: string[]) => Promise<void> };
      await m.runLatencyBench(args);
      return;
    }
    case 'mc': {
      const m = (await import('./mc.js')) as { runMcBench: (args: string[]) => Promise<void> };
      await m.runMcBench(args);
      return;
    }
    case 'pipeline': {
      const m = (await import('./pipeline.js')) as { runPipelineBench: (args: string[]) => Promise<void> };
      await m.runPipelineBench(args);
      return;
    }
    case 'membership': {
      const m = (await import('./membership.js')) as { runMembershipBench: (args: string[]) => Promise<void> };
      await m.runMembershipBench(args);
      return;
    }
    case 'snapshots': {
      const m = (await import('./snapshots.js')) as { runSnapshotsBench: (args: string[]) => Promise<void> };
      await m.runSnapshotsBench(args);
      return;
    }
    case 'soak': {
      const m = (await import('./soak.js')) as { runSoakBench: (args: string[]) => Promise<void> };
      await m.runSoakBench(args);
      return;
    }
    case 'sim': {
      const m = (await import('./sim.js')) as { runSimBench: (args: string[]) => Promise<void> };
      await m.runSimBench(args);
      return;
    }
    default:
      process.stderr.write(
        `usage: npm run bench -- checker|cluster|codec|compare|latency|membership|mc|pipeline|sim|snapshots|soak [args]\n`,
      );
      process.exitCode = 254;
  }
}

keepRunningWhenReaderCloses();
run().catch((e: unknown) => {
  // A bad option (or --help where a benchmark has none) is the user's mistake, not a crash: one line, no stack.
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
    process.stderr.write(`bench ${name ?? ''}: ${(e as Error).message} (the options are in bench/README.md)\n`);
    process.exitCode = 254;
    return;
  }
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 255;
});
