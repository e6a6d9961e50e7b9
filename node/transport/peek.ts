/**
 * What an observer on the wire can read of a peer datagram WITHOUT the
 * cluster secret, from its unauthenticated header (binary form) or the first
 * bytes of the JSON form: whether it is an AppendEntries (its term and
 * sender), or a RequestVote or its answer. Never trusted for a verdict (the
 * harness's wire monitor verifies the MAC before it records a fact); good
 * enough to choose which datagrams a fault delays, replays or lets through,
 * as an attacker on the path could (the harness's relay, harness/net/relay.ts;
 * the simulator's network, sim/network.ts).
 */
import { payloadBounds } from './codec.js';
import { isBinaryKind, peekBinaryHeader } from './raft-binary.js';

/** How far into a JSON payload the body type must appear: the envelope header fields are short. */
export const PREFIX_BYTES = 512;
export const TYPE_AE = Buffer.from('"type":"append_entries"', 'utf8');
export const AE_HEAD = /"type":"append_entries","term":(\d+),"from":"([^"\\]{1,64})"/;
const TYPE_VOTE = Buffer.from('"type":"request_vote', 'utf8');

type BinaryHeader = ReturnType<typeof peekBinaryHeader>;

export interface PeekedAppendEntries {
  readonly term: number;
  readonly from: string;
}

/** The binary header, or the JSON payload's first PREFIX_BYTES, or null when the datagram has no readable payload. */
function peekHead(datagram: Buffer): { readonly binary: BinaryHeader } | { readonly prefix: Buffer } | null {
  const bounds = payloadBounds(datagram);
  if (bounds === null) return null;
  if (isBinaryKind(datagram[bounds.start])) return { binary: peekBinaryHeader(datagram, bounds.start) };
  return { prefix: datagram.subarray(bounds.start, Math.min(bounds.end, bounds.start + PREFIX_BYTES)) };
}

/** The term and sender of an AppendEntries datagram, or null for anything else (or an unreadable header). */
export function peekAppendEntries(datagram: Buffer): PeekedAppendEntries | null {
  const head = peekHead(datagram);
  if (head === null) return null;
  if ('binary' in head) return head.binary?.kind === 'append_entries' ? { term: head.binary.term, from: head.binary.from } : null;
  if (head.prefix.indexOf(TYPE_AE) < 0) return null;
  const fields = AE_HEAD.exec(head.prefix.toString('latin1'));
  return fields === null ? null : { term: Number(fields[1]), from: fields[2]! };
}

/**
 * Whether a peer datagram is a RequestVote or its answer (pre-votes too):
 * the only traffic the votes-only fault lets through to one node. Anything
 * unreadable is not a vote.
 */
export function peekIsVote(datagram: Buffer): boolean {
  const head = peekHead(datagram);
  if (head === null) return false;
  if ('binary' in head) return head.binary?.kind === 'request_vote' || head.binary?.kind === 'request_vote_response';
  return head.prefix.indexOf(TYPE_VOTE) >= 0;
}
