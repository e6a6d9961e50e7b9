/**
 * What the user sees while a run goes on: op counters (by type, by f, and
 * per phase for availability) and one live status line on stderr. (The
 * summary at the end is run/summary.ts.)
 *
 * Availability is the fraction of ops the system answered: ok, or a definite
 * cas_mismatch (the system worked; the precondition was false), over all ops,
 * an op that never completed counting as unanswered. `okFraction` is
 * Maelstrom's ok / (ok + fail + info) beside it. An op belongs to the phase of its
 * invoke (a client sees the system as it is when it asks): "faults" while the
 * nemesis has any fault active, "healed" otherwise, "final" for the final
 * reads after the heal (kept apart: they retry until they succeed).
 */
import type { HistoryEntry, HistoryType } from './history.js';

export type Phase = 'faults' | 'healed' | 'final';
export const phases: readonly Phase[] = ['faults', 'healed', 'final'];

export interface TypeCounts {
  invoke: number;
  ok: number;
  fail: number;
  info: number;
}

export interface PhaseCounts {
  ops: number;
  ok: number;
  fail: number;
  /** info completions plus ops that never completed. */
  info: number;
  /** ok + fail with error cas_mismatch: ops the system answered. */
  answered: number;
  /** answered / ops, null when the phase has no ops. */
  availability: number | null;
  /** ok / ops (Maelstrom's ok-fraction), null when the phase has no ops. */
  okFraction: number | null;
}

export interface StatsSnapshot {
  byType: TypeCounts;
  byF: Record<string, TypeCounts>;
  /** Workload ops (faults + healed phases; the final reads excluded). */
  overall: PhaseCounts;
  phases: Record<Phase, PhaseCounts>;
}

function zero(): TypeCounts {
  return { invoke: 0, ok: 0, fail: 0, info: 0 };
}

interface PhaseTally extends TypeCounts {
  answered: number;
}

function zeroTally(): PhaseTally {
  return { ...zero(), answered: 0 };
}

function phaseCounts(c: PhaseTally): PhaseCounts {
  const ops = c.invoke;
  const info = ops - c.ok - c.fail; // info completions + never completed
  return {
    ops,
    ok: c.ok,
    fail: c.fail,
    info,
    answered: c.answered,
    availability: ops === 0 ? null : c.answered / ops,
    okFraction: ops === 0 ? null : c.ok / ops,
  };
}

/** A definite answer from the system: an ok, or a cas whose precondition was false. */
export function isAnswered(entry: HistoryEntry): boolean {
  return entry.type === 'ok' || (entry.type === 'fail' && entry.error === 'cas_mismatch');
}

/** Counters over client ops only (nemesis lines are not ops of the system). */
export class OpStats {
  private readonly byType = zero();
  private readonly byF = new Map<string, TypeCounts>();
  private readonly phase: Record<Phase, PhaseTally> = { faults: zeroTally(), healed: zeroTally(), final: zeroTally() };
  /** Phase of each process's open op. Bounded: one entry per process with an open op. */
  private readonly openPhase = new Map<number, Phase>();

  /** Records one history entry; `phase` is used for invokes (completions inherit their invoke's phase). */
  onEntry(entry: HistoryEntry, phase: Phase): void {
    if (typeof entry.process !== 'number') return;
    const type: HistoryType = entry.type;
    this.byType[type]++;
    let f = this.byF.get(entry.f);
    if (f === undefined) this.byF.set(entry.f, (f = zero()));
    f[type]++;
    if (type === 'invoke') {
      this.openPhase.set(entry.process, phase);
      this.phase[phase].invoke++;
    } else {
      const p = this.openPhase.get(entry.process) ?? phase;
      this.openPhase.delete(entry.process);
      this.phase[p][type]++;
      if (isAnswered(entry)) this.phase[p].answered++;
    }
  }

  get ok(): number {
    return this.byType.ok;
  }
  get fail(): number {
    return this.byType.fail;
  }
  get info(): number {
    return this.byType.info;
  }

  snapshot(): StatsSnapshot {
    const byF: Record<string, TypeCounts> = {};
    for (const [f, c] of [...this.byF.entries()].sort(([a], [b]) => a.localeCompare(b))) byF[f] = { ...c };
    const workload = zeroTally();
    for (const p of ['faults', 'healed'] as const) {
      for (const t of ['invoke', 'ok', 'fail', 'info', 'answered'] as const) workload[t] += this.phase[p][t];
    }
    return {
      byType: { ...this.byType },
      byF,
      overall: phaseCounts(workload),
      phases: { faults: phaseCounts(this.phase.faults), healed: phaseCounts(this.phase.healed), final: phaseCounts(this.phase.final) },
    };
  }
}

export function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}

interface StatusStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * The live status line: on a TTY it is rewritten in place with \r every
 * 250 ms and log lines are printed above it; otherwise a plain line every 5 s.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private status: (() => string) | null = null;
  private shown = false;
  private readonly tty: boolean;

  constructor(
    private readonly stream: StatusStream,
    private readonly enabled: boolean,
  ) {
    this.tty = stream.isTTY === true;
  }

  start(status: () => string): void {
    if (!this.enabled) return;
    this.status = status;
    this.timer = setInterval(() => this.draw(), this.tty ? 250 : 5000);
    this.timer.unref();
    if (this.tty) this.draw();
  }

  private fit(line: string): string {
    const cols = this.stream.columns ?? 120;
    return line.length >= cols ? line.slice(0, Math.max(10, cols - 1)) : line;
  }

  private draw(): void {
    if (this.status === null) return;
    let line: string;
    try {
      line = this.status();
    } catch (err) {
      line = `(status unavailable: ${(err as Error).message})`;
    }
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${this.fit(line)}`);
      this.shown = true;
    } else {
      this.stream.write(line + '\n');
    }
  }

  private clear(): void {
    if (this.tty && this.shown) {
      this.stream.write('\r\x1b[2K');
      this.shown = false;
    }
  }

  /** Prints a log line (above the status line on a TTY). */
  log(line: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(line + '\n');
    if (this.tty && this.status !== null) this.draw();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.status = null;
    this.clear();
  }
}

export function formatElapsed(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The status line's text. */
export function statusLine(s: {
  elapsedMs: number;
  timeLimitMs: number;
  phase: string;
  ok: number;
  fail: number;
  info: number;
  faults: readonly string[];
  leader: string | null;
}): string {
  return (
    `[${formatElapsed(s.elapsedMs)}/${formatElapsed(s.timeLimitMs)} ${s.phase}] ok ${s.ok} fail ${s.fail} info ${s.info}` +
    ` | faults: ${s.faults.length === 0 ? 'none' : s.faults.join(', ')} | leader: ${s.leader ?? 'none'}`
  );
}
