/**
 * The recording side of the latency probe (node/latency-probe.ts): a ring
 * of preallocated typed arrays, written out as text at shutdown.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { STAGES, type LatencyProbe } from './latency-probe.js';

/** Marks kept by default: about 20 MB, minutes of one-client load. */
export const DEFAULT_PROBE_CAPACITY = 1 << 20;

export class RecordingProbe implements LatencyProbe {
  arrivedAtMs = 0;
  private readonly stages: Uint8Array;
  private readonly keys: Float64Array;
  private readonly times: Float64Array;
  private next = 0;
  private wrapped = false;

  constructor(readonly capacity = DEFAULT_PROBE_CAPACITY) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0))
      throw new RangeError(`probe capacity must be a positive integer, got ${capacity}`);
    this.stages = new Uint8Array(capacity);
    this.keys = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  now(): number {
    return performance.now();
  }

  mark(stage: number, key: number, atMs: number = performance.now()): void {
    const slot = this.next;
    this.stages[slot] = stage;
    this.keys[slot] = key;
    this.times[slot] = atMs;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.next === 0) this.wrapped = true;
  }

  /** The marks, oldest first, as `stage key timeMs` lines. */
  text(): string {
    const lines: string[] = [];
    const start = this.wrapped ? this.next : 0;
    const count = this.wrapped ? this.capacity : this.next;
    for (let i = 0; i < count; i++) {
      const slot = (start + i) % this.capacity;
      lines.push(`${STAGES[this.stages[slot]!] ?? 'unknown'} ${this.keys[slot]} ${this.times[slot]!.toFixed(4)}`);
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  /** Writes the marks to `file` (synchronously: called at shutdown). */
  dump(file: string): void {
    writeFileSync(file, this.text());
  }
}
