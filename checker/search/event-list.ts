// The history as WGL walks it: a doubly linked list of call/return events in
// real-time order over typed arrays (Porcupine's `node` list). Linearizing an
// op lifts its call and its return out of the list in O(1); backtracking
// relinks them (in the reverse order, so the neighbours are exactly those it
// was unlinked between). Events are encoded as `op * 2` (call) and
// `op * 2 + 1` (return), see KeyHistory.

/** End of the list. */
export const NIL = -1;

export function isCall(event: number): boolean {
  return (event & 1) === 0;
}

export function opOf(event: number): number {
  return event >> 1;
}

export class EventList {
  /** The list's head sentinel (one past the last event position). */
  readonly head: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Position of each op's call / return event. */
  readonly callAt: Int32Array;
  readonly returnAt: Int32Array;

  constructor(nOps: number, readonly events: Int32Array) {
    const n = events.length;
    this.head = n;
    this.next = new Int32Array(n + 1);
    this.prev = new Int32Array(n + 1);
    this.callAt = new Int32Array(nOps);
    this.returnAt = new Int32Array(nOps);
    for (let e = 0; e < n; e++) {
      const ev = events[e]!;
      if (isCall(ev)) this.callAt[opOf(ev)] = e;
      else this.returnAt[opOf(ev)] = e;
      this.next[e] = e + 1 < n ? e + 1 : NIL;
      this.prev[e] = e === 0 ? this.head : e - 1;
    }
    this.next[this.head] = n > 0 ? 0 : NIL;
    this.prev[this.head] = NIL;
  }

  /** First event still in the list, or NIL when every op is linearized. */
  first(): number {
    return this.next[this.head]!;
  }

  /** Unlinks `op`'s call and return. */
  lift(op: number): void {
    this.unlink(this.callAt[op]!);
    this.unlink(this.returnAt[op]!);
  }

  /** Relinks `op`'s return, then its call (the reverse of lift). */
  unlift(op: number): void {
    this.relink(this.returnAt[op]!);
    this.relink(this.callAt[op]!);
  }

  private unlink(e: number): void {
    const p = this.prev[e]!;
    const q = this.next[e]!;
    this.next[p] = q;
    if (q !== NIL) this.prev[q] = p;
  }

  private relink(e: number): void {
    const q = this.next[e]!;
    this.next[this.prev[e]!] = e;
    if (q !== NIL) this.prev[q] = e;
  }
}
