/**
 * What an observer on the wire can read of a peer datagram WITHOUT the
 * cluster secret: whether it is an AppendEntries, and its term and sender,
 * from the unauthenticated header (binary form) or the first bytes of the
 * JSON form. Never trusted for a verdict (the wire monitor verifies the MAC
 * before it records a fact); good enough to choose which datagrams a fault
 * delays or replays, as an attacker on the path could.
 */
import { payloadBounds } from '../../node/transport/codec.js';
import { PREFIX_BYTES } from '../../node/transport/peek.js';
import { isBinaryKind, peekBinaryHeader } from '../../node/transport/raft-binary.js';

/** One prefix for both peeks (node/transport/peek.ts, where the vote's peek lives). */
export { PREFIX_BYTES };
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
