/**
 * Each node's data directory on a small tmpfs of its own, for the disk-full
 * nemesis (nemesis/kinds/disk-full.ts): a file system that a ballast file can
 * fill in milliseconds without touching the machine's real disk, and whose
 * ENOSPC is the kernel's own (what the node's write, fsync and rename see in
 * production), not a simulation.
 *
 * Mounting needs root (the options refuse `--nemesis disk-full` otherwise,
 * the way `--net netns` is refused). The mounts live exactly as long as the
 * cluster (harness/cluster.ts): made before its nodes start, released by its
 * network teardown after every node has stopped. Released in order: the
 * ballast removed, the node's files copied out, the tmpfs unmounted, the
 * files copied back into the now ordinary directory, so the run directory
 * keeps each node's data as every other run does.
 *
 * A harness that is SIGKILLed or crashes hard runs none of that: the mounts
 * are then leased to a reaper, as netns runs lease their namespaces
 * (net/netns-reaper.ts): a shell in its own session reading a pipe from the
 * harness until end-of-file, then unmounting (lazily: a node the kernel is
 * still killing may hold a file open). The pipe's last writer is the harness
 * itself, so end-of-file comes exactly when it is gone, or when the release
 * closes the pipe after unmounting (the reaper then finds nothing mounted).
 * The process 'exit' hook (DbCluster.stopSync) unmounts synchronously too.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { promisify } from 'node:util';
import { shellQuote } from './net/netns-reaper.js';

const run = promisify(execFile);

/** The file the disk-full nemesis fills a node's tmpfs with (removed when the fault stops, and before the release copies). */
export const BALLAST_FILE = 'disk-full.ballast';

/** statfs(2)'s f_type of a tmpfs (linux/magic.h TMPFS_MAGIC). */
export const TMPFS_MAGIC = 0x01021994;

/**
 * Each node's tmpfs: 64 MiB. A 10-s run's data directory (log, snapshots,
 * incarnation) stays within a few MiB (snapshots compact the log), so a
 * correct node never runs out by itself; a ballast of the rest is written in
 * tens of ms and costs that much memory only while a fault lasts.
 */
export const DATA_TMPFS_BYTES = 64 * 1024 * 1024;

/** Why this machine cannot give each node a tmpfs, or null when it can (root on Linux). */
export function dataMountsUnavailableReason(isRoot: boolean = process.getuid?.() === 0): string | null {
  if (process.platform !== 'linux') return 'a tmpfs per data directory needs Linux';
  if (!isRoot) return 'mounting a tmpfs per data directory needs root';
  return null;
}

/** The reaper's script: wait for end-of-file on stdin, then unmount each directory (lazily). */
export function mountReaperScript(dirs: readonly string[]): string {
  return ['cat >/dev/null', ...dirs.map((d) => `umount -l ${shellQuote(d)} 2>/dev/null`), 'exit 0'].join('\n');
}

/**
 * Whether `dir` is the root of a tmpfs of at most `maxBytes` (a mount of its
 * own, not a directory on a tmpfs /tmp): what the disk-full nemesis checks
 * before it fills anything, so that no ballast ever lands on a real disk.
 * Null when it is; else why not.
 */
export async function whyNotOwnTmpfs(dir: string, maxBytes: number): Promise<string | null> {
  let fsInfo;
  try {
    fsInfo = await statfs(dir);
  } catch (err) {
    return `cannot statfs ${dir}: ${(err as Error).message}`;
  }
  if (fsInfo.type !== TMPFS_MAGIC) return `${dir} is not on a tmpfs (file system type 0x${fsInfo.type.toString(16)})`;
  if (statSync(dir).dev === statSync(dirname(dir)).dev) return `${dir} is not a mount point of its own`;
  const bytes = fsInfo.blocks * fsInfo.bsize;
  if (bytes > maxBytes) return `${dir}'s tmpfs holds ${bytes} bytes, more than the ${maxBytes} a data directory's should`;
  return null;
}

export class DataMounts {
  private reaper: ChildProcess | null;
  private mounted: string[] = [];
  private released: Promise<void> | null = null;

  private constructor(reaper: ChildProcess | null) {
    this.reaper = reaper;
  }

  /**
   * Mounts a tmpfs of `sizeBytes` on each of `dirs` (created if missing).
   * The reaper starts first, so no mount can exist without one; on a failure
   * whatever was mounted is unmounted before the error is thrown.
   */
  static async mount(dirs: readonly string[], sizeBytes: number): Promise<DataMounts> {
    const why = dataMountsUnavailableReason();
    if (why !== null) throw new Error(why);
    const reaper = spawn('sh', ['-c', mountReaperScript(dirs)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.on('error', () => {
      // No sh: nothing reaps after a crash; the release and the exit hook still run.
    });
    // Neither the reaper nor its pipe may keep the harness's event loop alive.
    reaper.unref();
    (reaper.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
    const mounts = new DataMounts(reaper);
    try {
      for (const dir of dirs) {
        mkdirSync(dir, { recursive: true });
        await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
        mounts.mounted.push(dir);
      }
    } catch (err) {
      await mounts.release();
      throw new Error(`cannot mount a tmpfs for each node's data directory: ${(err as Error).message.split('\n')[0]}`);
    }
    return mounts;
  }

  /** The directories mounted now (tests). */
  get mountedDirs(): readonly string[] {
    return this.mounted;
  }

  /** The reaper's process id (tests), or null once released. */
  get reaperPid(): number | null {
    return this.reaper?.pid ?? null;
  }

  /**
   * After every node has stopped: keeps each node's files (without the
   * ballast) in its directory and unmounts. Idempotent. A directory that will
   * not unmount is detached lazily (a process still dying holds it) and its
   * files are lost from the run directory; the error names it.
   */
  release(): Promise<void> {
    this.released ??= (async () => {
      const errors: string[] = [];
      for (const dir of [...this.mounted]) {
        const keep = join(dirname(dir), `.${basename(dir)}.kept`);
        try {
          await rm(join(dir, BALLAST_FILE), { force: true });
          rmSync(keep, { recursive: true, force: true });
          mkdirSync(keep);
          await run('cp', ['-a', `${dir}/.`, keep]);
          await run('umount', [dir]);
          this.mounted = this.mounted.filter((d) => d !== dir);
          await run('cp', ['-a', `${keep}/.`, dir]);
          rmSync(keep, { recursive: true, force: true });
        } catch (err) {
          errors.push(`${dir}: ${(err as Error).message.split('\n')[0]}`);
          if (this.mounted.includes(dir)) {
            try {
              execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
              this.mounted = this.mounted.filter((d) => d !== dir);
            } catch {
              // The reaper tries again when the pipe closes.
            }
          }
        }
      }
      this.closeReaper();
      if (errors.length > 0) throw new Error(`releasing the data tmpfs mounts: ${errors.join('; ')}`);
    })();
    return this.released;
  }

  /** Last resort (the process 'exit' hook): unmount lazily at once, files and all. */
  releaseSync(): void {
    for (const dir of this.mounted) {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // The reaper tries again when the harness is gone.
      }
    }
    this.mounted = [];
    this.closeReaper();
  }

  private closeReaper(): void {
    const reaper = this.reaper;
    this.reaper = null;
    reaper?.stdin?.end();
  }

  /** Whether `dir` is a mount point (tests). */
  static isMountPoint(dir: string): boolean {
    return existsSync(dir) && statSync(dir).dev !== statSync(dirname(dir)).dev;
  }
}
