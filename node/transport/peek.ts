/**
 * What a fault on the path can read of a peer datagram WITHOUT the cluster
 * secret, from its unauthenticated header, as an attacker could: never
 * trusted for a verdict. The harness's relay and monitor read AppendEntries
 * this way too (harness/net/peek.ts).
 */
import { payloadBounds } from './codec.js';
import { isBinaryKind, peekBinaryHeader } from './raft-binary.js';

/** How far into a JSON payload the body type must appear: the envelope header fields are short. */
export const PREFIX_BYTES = 512;
const TYPE_VOTE = Buffer.from('"type":"request_vote', 'utf8');

/**
 * Whether a peer datagram is a RequestVote or its answer (pre-votes too):
 * the only traffic the votes-only fault lets through to one node (the
 * harness's relay, harness/net/relay.ts; the simulator's network,
 * sim/network.ts). Anything unreadable is not a vote.
 */
export function peekIsVote(datagram: Buffer): boolean {
  const bounds = payloadBounds(datagram);
  if (bounds === null) return false;
  if (isBinaryKind(datagram[bounds.start])) {
    const kind = peekBinaryHeader(datagram, bounds.start)?.kind;
    return kind === 'request_vote' || kind === 'request_vote_response';
  }
  const prefix = datagram.subarray(bounds.start, Math.min(bounds.end, bounds.start + PREFIX_BYTES));
  return prefix.indexOf(TYPE_VOTE) >= 0;
}
