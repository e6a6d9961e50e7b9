/**
 * The client history of one run, in the shared JSON Lines format
 * (shared/corpus/README.md, Jepsen op shape): process numbers,
 * invoke / ok / fail / info, `f` in read / write / cas (model
 * `cas-register`), `key`, `value`, and `time` in nanoseconds of simulated
 * time. Nemesis events are recorded with process "nemesis" (checkers ignore
 * them), so a failing history explains itself.
 */
import type { HistoryOp } from '../checker/types.js';

export class History {
  readonly ops: HistoryOp[] = [];

  constructor(
    private readonly maxOps = 200_000,
    /** Sees every op as it is recorded (the read-safety check, read-safety.ts). */
    private readonly observe: (op: Omit<HistoryOp, 'index' | 'time'>, timeMs: number) => void = () => undefined,
  ) {}

  add(op: Omit<HistoryOp, 'index' | 'time'>, timeMs: number): void {
    if (this.ops.length >= this.maxOps) throw new Error(`history over its bound of ${this.maxOps} ops`);
    this.ops.push({ index: this.ops.length, time: Math.round(timeMs * 1e6), ...op });
    this.observe(op, timeMs);
  }

  toJsonl(): string {
    return this.ops.map((op) => JSON.stringify(op)).join('\n') + '\n';
  }
}
