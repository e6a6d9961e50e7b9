/**
 * A clock capability for databases that have no injectable clock of their
 * own: Debian's libfaketime, preloaded into the node's process, offsets what
 * the C library answers for the wall clock (`gettimeofday`,
 * `clock_gettime(CLOCK_REALTIME)`), as Jepsen's clock nemesis does for
 * databases it cannot instrument.
 *
 * What it can and cannot do:
 * - Offsets and jumps of the WALL clock only. The monotonic clock is left
 *   alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`): a backward step of it crashes
 *   runtimes that assert it never goes back (Node's libuv does), and timers
 *   run on it. A rate (a clock that runs slow or fast) needs the node's own
 *   cooperation (rift's node/clock/); asked for one, this capability throws,
 *   and the options refuse such faults up front.
 * - It reaches programs that ask the C library for the time (C, C++, the JVM,
 *   Python, Node). It does not reach statically linked Go binaries such as
 *   etcd, which read the clock through the vDSO themselves.
 *
 * The offset lives in a small file per node (`FAKETIME_TIMESTAMP_FILE`, read
 * on every call with `FAKETIME_NO_CACHE=1`), so it changes while the node
 * runs, without a restart. A node that is (re)started begins with no offset,
 * as a crash forgets rift's own clock faults (the clock nemesis's `crashed`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClockState } from '../node-process.js';
import type { SpawnCommand } from '../orphan-guard.js';
import type { ClockCapability, ClockChange } from './db.js';

/** Where Debian's libfaketime package installs the library, by architecture. */
const LIBFAKETIME_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

export function libfaketimePath(): string | null {
  return LIBFAKETIME_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Why faketime clocks cannot run here, or null if they can. */
export function faketimeUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'faketime clocks need Linux';
  if (libfaketimePath() === null) return 'faketime clocks need libfaketime (apt-get install -y faketime)';
  return null;
}

/** libfaketime's relative form: "+600.5" is 600.5 s ahead, "-0.25" a quarter second behind. */
export function faketimeOffsetText(offsetMs: number): string {
  const seconds = offsetMs / 1000;
  return `${seconds < 0 ? '-' : '+'}${Math.abs(seconds)}\n`;
}

export class FaketimeClock implements ClockCapability {
  readonly rates = false;
  private readonly offsets = new Map<string, number>();

  /** `dir`: a directory of this machine for the per-node offset files (the run directory). */
  constructor(
    private readonly dir: string,
    private readonly library: string,
  ) {}

  fileOf(node: string): string {
    return join(this.dir, `${node}.faketime`);
  }

  /** The node's command line under libfaketime (`env VAR=... command args`), its offset file reset to zero. */
  wrap(node: string, command: SpawnCommand): SpawnCommand {
    this.reset(node);
    return {
      command: 'env',
      args: [
        `LD_PRELOAD=${this.library}`,
        `FAKETIME_TIMESTAMP_FILE=${this.fileOf(node)}`,
        'FAKETIME_NO_CACHE=1',
        'FAKETIME_DONT_FAKE_MONOTONIC=1',
        command.command,
        ...command.args,
      ],
    };
  }

  /** Before each start: a restarted node has a correct clock again. */
  reset(node: string): void {
    this.offsets.set(node, 0);
    writeFileSync(this.fileOf(node), faketimeOffsetText(0));
  }

  async clock(node: string, change: ClockChange): Promise<ClockState> {
    if (change.rate !== undefined && change.rate !== 1) {
      throw new Error(`faketime moves ${node}'s wall clock only; a clock rate (${change.rate}x) needs the node's own clock`);
    }
    const before = this.offsets.get(node) ?? 0;
    const offsetMs = (change.offsetMs ?? before) + (change.bumpMs ?? 0);
    this.offsets.set(node, offsetMs);
    writeFileSync(this.fileOf(node), faketimeOffsetText(offsetMs));
    return { nowMs: Date.now() + offsetMs, offsetMs, rate: 1 };
  }
}
