// The history as WGL walks it: a doubly linked list of call/return events in
// real-time order over typed arrays (Porcupine's `node` list). Linearizing an
// op lifts its call and its return out of the list in O(1); backtracking
// relinks them (in the reverse order, so the neighbours are exactly those it
// was unlinked between). Events are encoded as `op * 2` (call) and
// `op * 2 + 1` (return), see KeyHistory.
//
// Two more lists thread the same positions:
// - the pending returns alone, so the first pending return (the end of the
//   candidate window: only ops whose call precedes it may be linearized
//   next) is known in O(1);
// - optionally, the calls of "late" ops (the search tries them after the
//   others: ops of unknown outcome), which then are not in the main list.
//   The candidate window is the same for both lists.

/** End of a list. */
export const NIL = -1;

export function isCall(event: number): boolean {
  return (event & 1) === 0;
}

export function opOf(event: number): number {
  return event >> 1;
}

export class EventList {
  /** The lists' head sentinel (one past the last event position). */
  readonly head: number;
  /** Main list: returns, and the calls of ops that are not late. */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Late list: the calls of late ops. */
  readonly lateNext: Int32Array;
  private readonly latePrev: Int32Array;
  /** Position of each op's call / return event. */
  readonly callAt: Int32Array;
  readonly returnAt: Int32Array;
  /** The list of pending returns (in position order; the head sentinel's next is the first). */
  readonly retNext: Int32Array;
  private readonly retPrev: Int32Array;
  private readonly late: Uint8Array | undefined;

  constructor(
    nOps: number,
    readonly events: Int32Array,
    late?: Uint8Array,
  ) {
    const n = events.length;
    this.head = n;
    this.late = late;
    this.next = new Int32Array(n + 1);
    this.prev = new Int32Array(n + 1);
    this.lateNext = new Int32Array(n + 1);
    this.latePrev = new Int32Array(n + 1);
    this.retNext = new Int32Array(n + 1);
    this.retPrev = new Int32Array(n + 1);
    this.callAt = new Int32Array(nOps);
    this.returnAt = new Int32Array(nOps);
    let lastMain = this.head;
    let lastLate = this.head;
    let lastReturn = this.head;
    const append = (next: Int32Array, prev: Int32Array, last: number, e: number): number => {
      next[last] = e;
      prev[e] = last;
      return e;
    };
    for (let e = 0; e < n; e++) {
      const ev = events[e]!;
      const op = opOf(ev);
      if (isCall(ev)) {
        this.callAt[op] = e;
        if (late !== undefined && late[op] === 1) lastLate = append(this.lateNext, this.latePrev, lastLate, e);
        else lastMain = append(this.next, this.prev, lastMain, e);
      } else {
        this.returnAt[op] = e;
        lastMain = append(this.next, this.prev, lastMain, e);
        lastReturn = append(this.retNext, this.retPrev, lastReturn, e);
      }
    }
    this.next[lastMain] = NIL;
    this.lateNext[lastLate] = NIL;
    this.retNext[lastReturn] = NIL;
    this.prev[this.head] = NIL;
    this.latePrev[this.head] = NIL;
    this.retPrev[this.head] = NIL;
  }

  /** First event still in the main list, or NIL when every op is linearized. */
  first(): number {
    return this.next[this.head]!;
  }

  /** First late call still pending, or NIL. */
  firstLate(): number {
    return this.lateNext[this.head]!;
  }

  /** Position of the first pending return (NIL when none): an op is a candidate iff pending and its call is before it. */
  firstReturn(): number {
    return this.retNext[this.head]!;
  }

  /** Unlinks `op`'s call and return. */
  lift(op: number): void {
    const c = this.callAt[op]!;
    if (this.late !== undefined && this.late[op] === 1) this.unlink(this.lateNext, this.latePrev, c);
    else this.unlink(this.next, this.prev, c);
    const r = this.returnAt[op]!;
    this.unlink(this.next, this.prev, r);
    this.unlink(this.retNext, this.retPrev, r);
  }

  /** Relinks `op`'s return, then its call (the reverse of lift). */
  unlift(op: number): void {
    const r = this.returnAt[op]!;
    this.relink(this.retNext, this.retPrev, r);
    this.relink(this.next, this.prev, r);
    const c = this.callAt[op]!;
    if (this.late !== undefined && this.late[op] === 1) this.relink(this.lateNext, this.latePrev, c);
    else this.relink(this.next, this.prev, c);
  }

  private unlink(next: Int32Array, prev: Int32Array, e: number): void {
    const p = prev[e]!;
    const q = next[e]!;
    next[p] = q;
    if (q !== NIL) prev[q] = p;
  }

  private relink(next: Int32Array, prev: Int32Array, e: number): void {
    const q = next[e]!;
    next[prev[e]!] = e;
    if (q !== NIL) prev[q] = e;
  }
}
