/**
 * What an observer on the wire can read of a peer datagram WITHOUT the
 * cluster secret: whether it is an AppendEntries, and its term and sender,
 * from the unauthenticated header (binary form) or the first bytes of the
 * JSON form. Never trusted for a verdict (the wire monitor verifies the MAC
 * before it records a fact); good enough to choose which datagrams a fault
 * delays or replays, as an attacker on the path could.
 */
import { payloadBounds } from '../../node/transport/codec.js';
import { isBinaryKind, peekBinaryHeader } from '../../node/transport/raft-binary.js';

/** How far into the JSON the body type must appear: the envelope header fields are short. */
export const PREFIX_BYTES = 512;
export const TYPE_AE = Buffer.from('"type":"append_entries"', 'utf8');
export const AE_HEAD = /"type":"append_entries","term":(\d+),"from":"([^"\\]{1,64})"/;

export interface PeekedAppendEntries {
  readonly term: number;
  readonly from: string;
}

/** The term and sender of an AppendEntries datagram, or null for anything else (or an unreadable header). */
export function peekAppendEntries(datagram: Buffer): PeekedAppendEntries | null {
  const bounds = payloadBounds(datagram);
  if (bounds === null) return null;
  if (isBinaryKind(datagram[bounds.start])) {
    const head = peekBinaryHeader(datagram, bounds.start);
    return head?.kind === 'append_entries' ? { term: head.term, from: head.from } : null;
  }
  const prefix = datagram.subarray(bounds.start, Math.min(bounds.end, bounds.start + PREFIX_BYTES));
  if (prefix.indexOf(TYPE_AE) < 0) return null;
  const head = AE_HEAD.exec(prefix.toString('latin1'));
  return head === null ? null : { term: Number(head[1]), from: head[2]! };
}

const TYPE_VOTE = Buffer.from('"type":"request_vote', 'utf8');

/**
 * Whether a peer datagram is a RequestVote or its answer (pre-votes too),
 * from the unauthenticated header: the only traffic the votes-only fault
 * lets through (NetworkControl.onlyVotesTo). Anything unreadable is not.
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
