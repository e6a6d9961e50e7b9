/**
 * The namespaces, bridge and veth of a netns run outlive a harness that is
 * SIGKILLed or crashes hard: `ip netns add` pins them in /run/netns, and a
 * killed process runs none of its teardown. (Its nodes end by their
 * parent-death signal, orphan-guard.ts; namespaces have no such signal.)
 *
 * So each run leases them to a small reaper, as the SSH mode leases a host's
 * firewall table to its ssh session: a shell started in its own session
 * (Ctrl-C at the terminal does not reach it) that reads a pipe from the
 * harness until end-of-file, then deletes the run's namespaces and the
 * harness-side veth. The pipe's last writer is the harness process itself, so
 * end-of-file comes exactly when the harness is gone, however it went (the
 * kernel closes a dead process's descriptors), or when teardown releases it
 * after removing everything itself (the reaper then finds nothing to delete;
 * each deletion ignores "not found").
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** A single-quoted shell word (names are generated, but never trust a string into a shell). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The reaper's script: wait for end-of-file on stdin, then delete in the order given. */
export function reaperScript(namespaces: readonly string[], rootInterface: string): string {
  const deletions = [
    ...namespaces.map((ns) => `ip netns del ${shellQuote(ns)} 2>/dev/null`),
    `ip link del ${shellQuote(rootInterface)} 2>/dev/null`,
  ];
  return ['cat >/dev/null', ...deletions, 'exit 0'].join('\n');
}

export class NetnsReaper {
  private constructor(private child: ChildProcess | null) {}

  /**
   * Starts the reaper for `namespaces` (deleted in this order) and the root
   * namespace's `rootInterface`. Call before creating any of them, so none
   * can exist without a reaper.
   */
  static start(namespaces: readonly string[], rootInterface: string): NetnsReaper {
    const child = spawn('sh', ['-c', reaperScript(namespaces, rootInterface)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => {
      // No sh: nothing reaps after a crash; the harness's own teardown still runs.
    });
    // Neither the child nor its pipe may keep the harness's event loop alive.
    child.unref();
    (child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
    return new NetnsReaper(child);
  }

  /** The reaper's process id (tests), or null once released. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** After teardown removed everything: close the pipe, so the reaper runs (finding nothing) and exits. */
  release(): void {
    const child = this.child;
    this.child = null;
    child?.stdin?.end();
  }
}
