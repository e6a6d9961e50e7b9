/**
 * The relay's replay stage (issue 15: "a replay nemesis in the UDP relay:
 * capture, then re-inject old datagrams seconds later, across terms").
 * It works on AppendEntries only (heartbeats included), read from their
 * unauthenticated header (peek.ts), as an attacker on the path could, and
 * has two modes:
 *
 * - `replay`: byte-identical copies. The relay always keeps the last few
 *   AppendEntries of each link for the sender's recent terms (a small
 *   bounded ring); while the fault is on, the moment a sender is seen
 *   leading a LATER term on a link, the copies of its earlier terms on that
 *   link are sent again. A node with an anti-replay window (a per-sender
 *   counter in the authenticated envelope) must drop every one of them:
 *   what this mode shows is that it does.
 * - `hold`: a legitimate network delay, no copy. While the fault is on, a
 *   drawn fraction of AppendEntries are taken out of the stream and each is
 *   delivered ONCE, later: when its sender is seen leading a later term on
 *   that link (across terms), or at the latest maxAgeMs after it was held.
 *   When the fault stops no new datagram is held, but those in flight on the
 *   slow path still arrive late, each at its own time (the final heal
 *   delivers them all at once). No window can tell such a datagram from one
 *   that was merely slow, so this is the mode that can reach a node whose
 *   answers to old-term requests confirm a later term's reads
 *   (`--unsafe-stale-read-acks`).
 *
 * A third use, by the `relead` fault (nemesis/kinds/relead.ts): every
 * AppendEntries of one sender held (`holdAllFrom`), the same slow path as
 * `hold` for all of that sender's AppendEntries while it is on, so the last
 * ones a leader sends in a term are among them.
 *
 * Released datagrams leave `releaseGapMs` after the trigger (the later-term
 * AppendEntries itself goes first, so the follower has adopted the new term
 * when the old one arrives: exactly the case that answer is about). Bounded:
 * at most `maxHeld` held and `ringPerTerm` kept per link and term for
 * `termsKept` terms.
 */

export type ReplayMode = 'replay' | 'hold';
export const replayModes: readonly ReplayMode[] = ['replay', 'hold'];

export interface ReplaySettings {
  readonly mode: ReplayMode;
  /** hold: the fraction of AppendEntries held back while the fault is on (0..1). */
  readonly fraction: number;
  /** hold: the longest a datagram is held; replay: the oldest copy sent again. */
  readonly maxAgeMs: number;
}

/** A datagram the stage gives back to the relay to deliver (once) on its link. */
export interface ReleasedDatagram {
  readonly link: string;
  readonly msg: Buffer;
  /** 'held' (hold mode: the original, late) or 'replayed' (replay mode: a copy). */
  readonly how: 'held' | 'replayed';
  /** Whether it goes out because its sender leads a later term on the link (across terms), or because its time was up. */
  readonly acrossTerms: boolean;
}

interface Kept {
  readonly msg: Buffer;
  readonly term: number;
  readonly atMs: number;
  /** Hold mode: delivered at the latest then. */
  readonly dueMs: number;
}

export interface ReplayStageOptions {
  readonly releaseGapMs?: number;
  readonly maxHeld?: number;
  readonly ringPerTerm?: number;
  readonly termsKept?: number;
}

export class ReplayStage {
  readonly releaseGapMs: number;
  private readonly maxHeld: number;
  private readonly ringPerTerm: number;
  private readonly termsKept: number;
  private settings: ReplaySettings | null = null;
  /** link → the highest term seen in an AppendEntries on it. */
  private readonly linkTerm = new Map<string, number>();
  /** link → term → the last ringPerTerm AppendEntries of that term (replay's copies). */
  private readonly ring = new Map<string, Map<number, Kept[]>>();
  /** link → datagrams held back (hold mode), oldest first. */
  private readonly held = new Map<string, Kept[]>();
  private heldCount = 0;
  /** holdAllFrom: the sender whose every AppendEntries is held, and for how long at most. */
  private holdSender: { readonly id: string; readonly maxAgeMs: number } | null = null;

  constructor(opts: ReplayStageOptions = {}) {
    this.releaseGapMs = opts.releaseGapMs ?? 30;
    this.maxHeld = opts.maxHeld ?? 2000;
    this.ringPerTerm = opts.ringPerTerm ?? 16;
    this.termsKept = opts.termsKept ?? 3;
  }

  get active(): ReplaySettings | null {
    return this.settings;
  }

  /** Datagrams held now. */
  get holding(): number {
    return this.heldCount;
  }

  /** Starts (settings) or stops (null) the fault; what is held stays held until its sender leads a later term or its time is up. */
  set(settings: ReplaySettings | null): void {
    this.settings = settings;
  }

  /**
   * Holds every AppendEntries `sender` sends from now on (on every link from
   * it, each at most maxAgeMs, released like `hold`'s), until called with
   * null; what is held stays held. Independent of `set`.
   */
  holdAllFrom(sender: string | null, maxAgeMs = 30_000): void {
    this.holdSender = sender === null ? null : { id: sender, maxAgeMs };
  }

  /**
   * One AppendEntries of `term` on `link` at `nowMs`: whether the relay
   * must hold it back (`hold`), and what becomes due because of it (copies
   * or held datagrams of earlier terms on this link, when `term` is later
   * than any seen there). `draw` is the relay's seeded coin, in [0, 1).
   */
  onAppendEntries(
    link: string,
    term: number,
    msg: Buffer,
    nowMs: number,
    draw: () => number,
  ): { hold: boolean; release: ReleasedDatagram[] } {
    const previous = this.linkTerm.get(link) ?? 0;
    const later = term > previous;
    if (later) this.linkTerm.set(link, term);
    this.keep(link, term, msg, nowMs);
    const s = this.settings;
    const release: ReleasedDatagram[] = [];
    if (s !== null && later && previous > 0) {
      if (s.mode === 'replay') {
        for (const [t, kept] of this.ring.get(link) ?? []) {
          if (t >= term) continue;
          for (const k of kept) if (nowMs - k.atMs <= s.maxAgeMs) release.push({ link, msg: k.msg, how: 'replayed', acrossTerms: true });
        }
      }
    }
    // Held datagrams travel on, fault or no fault: a later term of their sender on their link releases them.
    if (later && previous > 0) release.push(...this.takeHeld(link, (k) => k.term < term, true));
    if (this.heldCount >= this.maxHeld) return { hold: false, release };
    let holdForMs: number | null = null;
    const sender = this.holdSender;
    if (sender !== null && link.startsWith(`${sender.id}>`)) holdForMs = sender.maxAgeMs;
    else if (s !== null && s.mode === 'hold' && draw() < s.fraction) holdForMs = s.maxAgeMs;
    if (holdForMs === null) return { hold: false, release };
    let list = this.held.get(link);
    if (list === undefined) this.held.set(link, (list = []));
    list.push({ msg, term, atMs: nowMs, dueMs: nowMs + holdForMs });
    this.heldCount++;
    return { hold: true, release };
  }

  /** Held datagrams whose time is up (maxAgeMs after each was held), due now. */
  expire(nowMs: number): ReleasedDatagram[] {
    if (this.heldCount === 0) return [];
    const out: ReleasedDatagram[] = [];
    for (const link of [...this.held.keys()]) out.push(...this.takeHeld(link, (k) => nowMs >= k.dueMs, false));
    return out;
  }

  /** Everything held, for delivery now (the final heal). */
  releaseAllHeld(): ReleasedDatagram[] {
    const out: ReleasedDatagram[] = [];
    for (const link of [...this.held.keys()]) out.push(...this.takeHeld(link, () => true, false));
    return out;
  }

  private takeHeld(link: string, due: (k: Kept) => boolean, acrossTerms: boolean): ReleasedDatagram[] {
    const list = this.held.get(link);
    if (list === undefined) return [];
    const out: ReleasedDatagram[] = [];
    const rest: Kept[] = [];
    for (const k of list) {
      if (due(k)) out.push({ link, msg: k.msg, how: 'held', acrossTerms });
      else rest.push(k);
    }
    this.heldCount -= out.length;
    if (rest.length === 0) this.held.delete(link);
    else this.held.set(link, rest);
    return out;
  }

  /** The replay ring: the last ringPerTerm AppendEntries per term, for the termsKept latest terms of the link. */
  private keep(link: string, term: number, msg: Buffer, nowMs: number): void {
    let byTerm = this.ring.get(link);
    if (byTerm === undefined) this.ring.set(link, (byTerm = new Map()));
    let kept = byTerm.get(term);
    if (kept === undefined) {
      byTerm.set(term, (kept = []));
      if (byTerm.size > this.termsKept) byTerm.delete(Math.min(...byTerm.keys()));
    }
    kept.push({ msg, term, atMs: nowMs, dueMs: nowMs });
    if (kept.length > this.ringPerTerm) kept.shift();
  }
}
