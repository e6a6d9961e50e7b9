/**
 * Replay protection for peer datagrams, on the receiving node.
 *
 * Every peer datagram names, under its MAC, the sender's incarnation, the
 * receiver's incarnation as the sender last heard it, and a counter that
 * starts at 1 in each sender incarnation (one counter per destination).
 * A node's incarnation is persisted and fsynced in its data directory and
 * grows on every start (node/incarnation.ts), so it never repeats.
 *
 * - A sender incarnation below the highest one heard from that peer is an
 *   old datagram from before the peer restarted: refused. A higher one
 *   means the peer restarted: its window starts again.
 * - A receiver incarnation other than this node's own was addressed to an
 *   earlier life of this node (a datagram captured before it restarted, and
 *   replayed now): refused. Such a datagram from a live peer also means the
 *   peer has not heard of this incarnation yet, so the node answers with a
 *   `hello` (rate-limited) that tells it.
 * - Within one (sender incarnation, receiver incarnation) the counter must
 *   pass a 1024-wide sliding window (replay-window.ts): each counter once,
 *   and reordering by fewer than 1024 positions tolerated.
 *
 * So a captured datagram is accepted at most once, never after its window,
 * never by a later incarnation of its receiver, and never once its sender
 * restarted, and none of it needs synchronized clocks. The state is one
 * window per configured peer (only datagrams whose MAC verified under a peer
 * key reach this, and only configured nodes have one), so it is bounded.
 */
import type { NodeId } from '../raft/types.js';
import type { Stamp } from './codec.js';
import { ReplayWindow } from './replay-window.js';

/** Peers may reorder by this many datagrams (per sender and receiver) and still have all of them accepted once. */
export const PEER_WINDOW_SIZE = 1024;

export type PeerDropReason = 'stale_incarnation' | 'stale_receiver' | 'replayed' | 'replay_too_old';

export type PeerVerdict =
  | { readonly kind: 'accept'; readonly helloDue: boolean }
  | { readonly kind: 'drop'; readonly reason: PeerDropReason; readonly detail: string; readonly helloDue: boolean };

interface PeerState {
  /** The highest incarnation heard from this peer (0: none). */
  incarnation: number;
  readonly window: ReplayWindow;
  /** The next counter this node stamps on a datagram to this peer. */
  nextCounter: number;
}

/** The two accepting verdicts, made once: one per datagram received would be garbage per datagram. */
const ACCEPT: PeerVerdict = { kind: 'accept', helloDue: false };
const ACCEPT_HELLO_DUE: PeerVerdict = { kind: 'accept', helloDue: true };

export class PeerReplayGuard {
  private readonly peers = new Map<NodeId, PeerState>();

  constructor(readonly incarnation: number) {}

  /** The incarnation of `peer` as last heard (0: not heard from in this incarnation). */
  knownIncarnation(peer: NodeId): number {
    return this.peers.get(peer)?.incarnation ?? 0;
  }

  /** The stamp of the next datagram to `peer`. */
  stampFor(peer: NodeId, sentAtMs: number): Stamp {
    const state = this.state(peer);
    return { senderIncarnation: this.incarnation, receiverIncarnation: state.incarnation, counter: state.nextCounter++, sentAtMs };
  }

  /**
   * Judges an authenticated datagram from `peer` and records it if accepted.
   * A `hello` is accepted whatever receiver incarnation it names (it only
   * announces its sender); `helloDue` says the peer has not heard of this
   * incarnation and should be told.
   */
  judge(peer: NodeId, stamp: Stamp, isHello: boolean): PeerVerdict {
    const state = this.state(peer);
    if (stamp.senderIncarnation < state.incarnation) {
      return {
        kind: 'drop',
        reason: 'stale_incarnation',
        detail: `${peer} incarnation ${stamp.senderIncarnation}; it has restarted since (now ${state.incarnation})`,
        helloDue: false,
      };
    }
    if (stamp.senderIncarnation > state.incarnation) {
      // The peer restarted (or is heard for the first time): its counters start again.
      state.incarnation = stamp.senderIncarnation;
      state.window.reset();
    }
    const helloDue = stamp.receiverIncarnation !== this.incarnation;
    if (helloDue && !isHello) {
      return {
        kind: 'drop',
        reason: 'stale_receiver',
        helloDue,
        detail: `${peer} addressed incarnation ${stamp.receiverIncarnation} of this node; this is incarnation ${this.incarnation}`,
      };
    }
    const verdict = state.window.accept(stamp.counter);
    switch (verdict) {
      case 'accept':
        return helloDue ? ACCEPT_HELLO_DUE : ACCEPT;
      case 'duplicate':
        return { kind: 'drop', reason: 'replayed', detail: `${peer} counter ${stamp.counter} was already accepted`, helloDue: false };
      case 'too_old':
        return {
          kind: 'drop',
          reason: 'replay_too_old',
          detail: `${peer} counter ${stamp.counter} is below the window (highest ${state.window.highest})`,
          helloDue: false,
        };
    }
  }

  private state(peer: NodeId): PeerState {
    let state = this.peers.get(peer);
    if (state === undefined) {
      state = { incarnation: 0, window: new ReplayWindow(PEER_WINDOW_SIZE), nextCounter: 1 };
      this.peers.set(peer, state);
    }
    return state;
  }
}
