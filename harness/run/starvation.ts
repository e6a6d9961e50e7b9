/**
 * Whether the machine itself stalled the run: the harness runs the relay
 * (every peer datagram passes through its event loop) and the clients, and
 * on a shared machine with more runnable processes than cores the nodes wait
 * for a CPU too. Either looks, from the history, exactly like a cluster that
 * stopped serving. The progress analysis must not call that a bug of the
 * system under test, nor hide it: a stall while the machine was starving the
 * run is reported as unknown, with the measurements.
 *
 * Two measurements, both stamped on the history's clock:
 * - the harness's event loop: a 10 ms timer; a late tick is a stall of the
 *   loop (the relay forwarded nothing meanwhile);
 * - each node's run-queue wait: /proc/PID/schedstat's second field (ns spent
 *   runnable but not running), read at every cluster-watch poll (for a node
 *   on another host, `--hosts`, the one it reports in the status that poll
 *   took); its growth over a window divided by the window is the share of
 *   time the node waited for a CPU.
 */
import { runQueueWaitMs } from '../../node/util/schedstat.js';

/** A node process the monitor samples: its pid on its host, and on this machine (null when it runs elsewhere). */
export interface NodeProcess {
  readonly id: string;
  readonly pid: number;
  readonly localPid: number | null;
}

/**
 * The run-queue waits of `processes` now, keyed by node and pid (a restarted
 * process starts a new count): read from /proc where the node runs on this
 * machine, else what it reported in its status (`reportedMs`, by node id).
 */
export function nodeWaits(processes: readonly NodeProcess[], reportedMs: ReadonlyMap<string, number>): Map<string, number> {
  const waits = new Map<string, number>();
  for (const p of processes) {
    const ms = p.localPid !== null ? runQueueWaitMs(p.localPid) : (reportedMs.get(p.id) ?? null);
    if (ms !== null) waits.set(`${p.id}/${p.pid}`, ms);
  }
  return waits;
}

/** A late tick longer than this counts as a stall of the harness's loop. */
const STALL_MS = 50;
const TICK_MS = 10;
/** Measurements kept (a day-long run keeps the last ones). */
const MAX_RECORDS = 200_000;

export interface LoopStall {
  readonly atMs: number;
  readonly ms: number;
}

interface WaitSample {
  readonly atMs: number;
  /** Run-queue wait of the live nodes since the previous sample, as a share of the elapsed time, averaged over nodes. */
  readonly share: number;
  readonly sinceMs: number;
}

export interface Overload {
  /** Time the harness's loop was stalled within the window. */
  readonly harnessStalledMs: number;
  /** The nodes' average share of the window spent waiting for a CPU (null: not measured). */
  readonly nodeWaitShare: number | null;
}

/** A window is starved when the harness stalled, or the nodes waited for a CPU, this share of it. */
export const STARVED_SHARE = 0.25;

export class StarvationMonitor {
  private readonly stalls: LoopStall[] = [];
  private readonly waits: WaitSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private lastWait: ReadonlyMap<string, number> = new Map();
  private lastWaitAtMs: number | null = null;

  constructor(private readonly nowMs: () => number) {}

  start(): void {
    if (this.timer !== null) return;
    this.lastTick = this.nowMs();
    this.timer = setInterval(() => {
      const now = this.nowMs();
      const late = now - this.lastTick - TICK_MS;
      if (late > STALL_MS) this.push(this.stalls, { atMs: this.lastTick, ms: late });
      this.lastTick = now;
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads the run-queue wait of the live nodes' processes (called at each cluster-watch poll). */
  /** One sample of the nodes' run-queue waits so far (ms, keyed by process: `nodeWaits`). */
  sampleNodes(current: ReadonlyMap<string, number>): void {
    const now = this.nowMs();
    const since = this.lastWaitAtMs;
    if (since !== null && now > since) {
      let sum = 0;
      let n = 0;
      for (const [key, w] of current) {
        const before = this.lastWait.get(key);
        if (before === undefined) continue; // restarted since: no baseline
        sum += Math.max(0, w - before);
        n++;
      }
      if (n > 0) this.push(this.waits, { atMs: now, sinceMs: since, share: sum / n / (now - since) });
    }
    this.lastWait = current;
    this.lastWaitAtMs = now;
  }

  /** How starved the run was during [fromMs, toMs]. */
  overloadIn(fromMs: number, toMs: number): Overload {
    let stalled = 0;
    for (const s of this.stalls) {
      const a = Math.max(fromMs, s.atMs);
      const b = Math.min(toMs, s.atMs + s.ms);
      if (b > a) stalled += b - a;
    }
    let waited = 0;
    let covered = 0;
    for (const w of this.waits) {
      const a = Math.max(fromMs, w.sinceMs);
      const b = Math.min(toMs, w.atMs);
      if (b <= a) continue;
      waited += w.share * (b - a);
      covered += b - a;
    }
    return { harnessStalledMs: stalled, nodeWaitShare: covered > 0 ? waited / covered : null };
  }

  /** Whether the machine starved the run during the window: the harness loop stalled, or the nodes waited for a CPU, a quarter of it or more. */
  overloaded(fromMs: number, toMs: number): Overload | null {
    const o = this.overloadIn(fromMs, toMs);
    const span = Math.max(1, toMs - fromMs);
    return o.harnessStalledMs >= STARVED_SHARE * span || (o.nodeWaitShare ?? 0) >= STARVED_SHARE ? o : null;
  }

  /** The whole run: total and longest harness stall, the nodes' wait share. */
  summary(toMs: number): { harnessStalledMs: number; longestHarnessStallMs: number; nodeWaitShare: number | null } {
    const o = this.overloadIn(0, toMs);
    return {
      harnessStalledMs: o.harnessStalledMs,
      longestHarnessStallMs: this.stalls.reduce((m, s) => Math.max(m, s.ms), 0),
      nodeWaitShare: o.nodeWaitShare,
    };
  }

  private push<T>(list: T[], item: T): void {
    if (list.length >= MAX_RECORDS) list.shift();
    list.push(item);
  }
}
