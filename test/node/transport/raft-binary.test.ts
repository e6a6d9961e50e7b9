import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIXED_HEADER_BYTES,
  MAGIC,
  WIRE_VERSION,
  appendEntriesOverheadBytes,
  decodeEnvelope,
  encodeEnvelope,
  entryWireBytes,
  payloadBounds,
  type DropReason,
  type Envelope,
  type Stamp,
} from '../../../node/transport/codec.js';
import { deriveClientKey, derivePeerKey, type KeyLookup } from '../../../node/transport/keys.js';
import { decodeRaftBinary, encodeRaftBinary, type BinaryEnvelope } from '../../../node/transport/raft-binary.js';
import type { AppendEntries, RaftMessage } from '../../../node/raft/types.js';
import { arbRaftMessage } from './arbitraries.js';

const CLUSTER = 'rift-test';
const PEER_SECRET = 'correct horse battery staple';
const CLIENT_KEY = deriveClientKey('a different secret, for clients');
const RING: KeyLookup = { keyFor: (domain, sender) => (domain === 'peer' ? derivePeerKey(PEER_SECRET, sender) : CLIENT_KEY) };
const STAMP: Stamp = { senderIncarnation: 3, receiverIncarnation: 5, counter: 7, sentAtMs: 1_700_000_000_000 };
/** The peer key of `from`: what a node seals its Raft messages with. */
const keyOf = (from: string): Buffer => derivePeerKey(PEER_SECRET, from);

const arbBinaryEnvelope: fc.Arbitrary<BinaryEnvelope> = arbRaftMessage.map((body) => ({
  cluster: CLUSTER,
  from: body.from,
  to: body.to,
  body,
}));

function payloadOf(env: BinaryEnvelope): Buffer {
  const out = Buffer.alloc(200_000);
  const r = encodeRaftBinary(env, out, 0, out.length);
  if (!r.ok) throw new Error(`encode failed: ${JSON.stringify(r)}`);
  return Buffer.from(out.subarray(0, r.bytes));
}

/** A peer datagram from `sender` with a correct MAC around arbitrary payload bytes: reaches the binary reader. */
function seal(payload: Buffer, sender = 'n1'): Buffer {
  const head = Buffer.alloc(FIXED_HEADER_BYTES);
  MAGIC.copy(head, 0);
  head[4] = WIRE_VERSION;
  head[5] = 1; // peer domain
  head.writeDoubleLE(STAMP.senderIncarnation, 6);
  head.writeDoubleLE(STAMP.receiverIncarnation, 14);
  head.writeDoubleLE(STAMP.counter, 22);
  head.writeDoubleLE(STAMP.sentAtMs, 30);
  const id = Buffer.from(sender, 'utf8');
  head[38] = id.length;
  const signed = Buffer.concat([head, id, payload]);
  return Buffer.concat([signed, createHmac('sha256', keyOf(sender)).update(signed).digest()]);
}

function reasonOf(buf: Buffer): DropReason | 'ok' {
  const r = decodeEnvelope(buf, RING, CLUSTER);
  return r.ok ? 'ok' : r.reason;
}

const heartbeat: AppendEntries = {
  type: 'append_entries',
  term: 3,
  from: 'n1',
  to: 'n2',
  prevLogIndex: 9,
  prevLogTerm: 2,
  entries: [],
  leaderCommit: 8,
  seq: 41,
};
const withEntry = (entry: object): BinaryEnvelope =>
  ({ cluster: CLUSTER, from: 'n1', to: 'n2', body: { ...heartbeat, entries: [entry] } }) as unknown as BinaryEnvelope;

describe('binary Raft messages', () => {
  it('round trip: decode(encode(m)) equals m and re-encodes to the same bytes (property)', () => {
    fc.assert(
      fc.property(arbBinaryEnvelope, (env) => {
        const payload = payloadOf(env);
        const r = decodeRaftBinary(payload, 0, payload.length);
        if (!r.ok) throw new Error(r.detail);
        expect(r.envelope).toEqual(env);
        expect(payloadOf(r.envelope)).toEqual(payload);
      }),
      { numRuns: 500 },
    );
  });

  it('the datagram size is exactly the overhead plus entryWireBytes of each entry', () => {
    fc.assert(
      fc.property(
        arbRaftMessage.filter((m): m is AppendEntries => m.type === 'append_entries'),
        (body) => {
          const env: Envelope = { cluster: CLUSTER, from: body.from, to: body.to, body };
          const r = encodeEnvelope(env, keyOf(env.from), STAMP);
          if (!r.ok) throw new Error(r.detail);
          const expected =
            appendEntriesOverheadBytes(CLUSTER, body.from, body.to) + body.entries.reduce((n, e) => n + entryWireBytes(e), 0);
          expect(r.datagram.length).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a farewell's removedAt (dissertation §4.2.2) round-trips, and every truncation of it is invalid_message", () => {
    fc.assert(
      fc.property(arbRaftMessage, fc.nat(), fc.nat(), (m, removedAt, cutSeed) => {
        if (m.type !== 'append_entries') return;
        const env: BinaryEnvelope = { cluster: CLUSTER, from: m.from, to: m.to, body: { ...m, removedAt } };
        const payload = payloadOf(env);
        expect(payload.length).toBe(payloadOf({ ...env, body: m }).length + 8);
        const r = decodeRaftBinary(payload, 0, payload.length);
        if (!r.ok) throw new Error(r.detail);
        expect(r.envelope).toEqual(env);
        expect(payloadOf(r.envelope)).toEqual(payload);
        const cut = 1 + (cutSeed % (payload.length - 1));
        expect(reasonOf(seal(payload.subarray(0, cut)))).toBe('invalid_message');
      }),
      { numRuns: 300 },
    );
  });

  it('every truncation of a valid payload is invalid_message, never a throw', () => {
    fc.assert(
      fc.property(arbBinaryEnvelope, fc.nat(), (env, cutSeed) => {
        const payload = payloadOf(env);
        const cut = 1 + (cutSeed % (payload.length - 1));
        expect(reasonOf(seal(payload.subarray(0, cut)))).toBe('invalid_message');
        expect(reasonOf(seal(Buffer.concat([payload, Buffer.from([0])])))).toBe('invalid_message');
      }),
      { numRuns: 300 },
    );
  });

  it('a corrupted byte under a valid MAC is rejected or still decodes to a message that re-encodes to those bytes', () => {
    fc.assert(
      fc.property(arbBinaryEnvelope, fc.nat(), fc.integer({ min: 1, max: 255 }), (env, posSeed, xor) => {
        const payload = payloadOf(env);
        const pos = posSeed % payload.length;
        payload[pos] = payload[pos]! ^ xor;
        const r = decodeEnvelope(seal(payload, env.from), RING, CLUSTER);
        if (!r.ok) {
          // sender_mismatch: the corrupted byte was in `from`, which no longer names the key's owner;
          // wrong_domain: the kind byte now names a client message, which a peer datagram never carries.
          expect(['invalid_message', 'wrong_cluster', 'malformed_json', 'sender_mismatch', 'wrong_domain']).toContain(r.reason);
          return;
        }
        // It was still well formed: then it must be exactly what these bytes say.
        const re = encodeEnvelope(r.envelope, keyOf(r.envelope.from), STAMP);
        if (!re.ok) throw new Error(re.detail);
        const bounds = payloadBounds(re.datagram)!;
        expect(re.datagram.subarray(bounds.start, bounds.end)).toEqual(payload);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes after a binary kind byte never decode and never throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 300 }), (kind, rest) => {
        expect(['invalid_message', 'wrong_cluster', 'sender_mismatch']).toContain(
          reasonOf(seal(Buffer.concat([Buffer.from([kind]), rest]))),
        );
      }),
      { numRuns: 1000 },
    );
  });

  const bad: Array<[string, (p: Buffer) => void, BinaryEnvelope]> = [];
  const hbEnv: BinaryEnvelope = { cluster: CLUSTER, from: 'n1', to: 'n2', body: heartbeat };
  const termAt = 1 + 2 + CLUSTER.length + 2 + 2 + 2 + 2;
  bad.push(['negative term', (p) => p.writeDoubleLE(-1, termAt), hbEnv]);
  bad.push(['fractional term', (p) => p.writeDoubleLE(1.5, termAt), hbEnv]);
  bad.push(['NaN term', (p) => p.writeDoubleLE(Number.NaN, termAt), hbEnv]);
  bad.push(['unsafe term', (p) => p.writeDoubleLE(2 ** 53, termAt), hbEnv]);
  bad.push(['empty from', (p) => p.writeUInt16LE(0, 1 + 2 + CLUSTER.length), hbEnv]);
  bad.push(['too many entries', (p) => p.writeUInt32LE(8193, termAt + 8 + 32), hbEnv]);
  const entryAt = termAt + 8 + 32 + 4;
  const oneEntry = withEntry({ term: 1, index: 1, type: 'command', data: 'abc' });
  bad.push(['entry term 0', (p) => p.writeDoubleLE(0, entryAt), oneEntry]);
  bad.push(['entry index 0', (p) => p.writeDoubleLE(0, entryAt + 8), oneEntry]);
  bad.push(['entry type 2', (p) => (p[entryAt + 16] = 2), oneEntry]);
  bad.push(['entry data invalid UTF-8', (p) => (p[entryAt + 21] = 0xff), oneEntry]);
  const rvEnv: BinaryEnvelope = {
    cluster: CLUSTER,
    from: 'n1',
    to: 'n2',
    body: { type: 'request_vote', term: 3, from: 'n1', to: 'n2', lastLogIndex: 1, lastLogTerm: 1, preVote: false },
  };
  bad.push(['unknown flag bit', (p) => (p[p.length - 1] = 0x80), rvEnv]);
  bad.push(['leadershipTransfer value without the field', (p) => (p[p.length - 1] = 4), rvEnv]);
  const aerEnv: BinaryEnvelope = {
    cluster: CLUSTER,
    from: 'n1',
    to: 'n2',
    body: {
      type: 'append_entries_response',
      term: 3,
      from: 'n1',
      to: 'n2',
      success: true,
      matchIndex: 4,
      conflictTerm: null,
      conflictIndex: 0,
      seq: 2,
    },
  };
  bad.push(['conflictTerm set although absent', (p) => p.writeDoubleLE(7, p.length - 8), aerEnv]);

  it.each(bad)('%s is invalid_message', (_name, mutate, env) => {
    const payload = payloadOf(env);
    expect(reasonOf(seal(payload))).toBe('ok');
    mutate(payload);
    expect(reasonOf(seal(payload))).toBe('invalid_message');
  });

  it('a binary message from another cluster is wrong_cluster', () => {
    const r = decodeEnvelope(seal(payloadOf({ ...hbEnv, cluster: 'other' })), RING, CLUSTER);
    expect(r.ok ? 'ok' : r.reason).toBe('wrong_cluster');
  });

  it('encode refuses what the receiver would reject, including text UTF-8 cannot carry', () => {
    const cases: BinaryEnvelope[] = [
      withEntry({ term: 1, index: 1, type: 'command', data: 'a\ud800b' }),
      withEntry({ term: 0, index: 1, type: 'noop', data: '' }),
      { ...hbEnv, body: { ...heartbeat, seq: -1 } },
      { ...hbEnv, from: 'n9' },
      { ...hbEnv, cluster: '' },
    ];
    for (const env of cases) {
      const r = encodeEnvelope(env as Envelope, keyOf(env.from), STAMP);
      expect(r.ok ? 'ok' : r.reason).toBe('invalid_message');
    }
  });

  it('an AppendEntries too big for one datagram is refused as oversized with its size', () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ term: 1, index: i + 1, type: 'command' as const, data: 'x'.repeat(2000) }));
    const body: RaftMessage = { ...heartbeat, entries };
    const r = encodeEnvelope({ cluster: CLUSTER, from: 'n1', to: 'n2', body }, keyOf('n1'), STAMP);
    expect(r.ok).toBe(false);
    if (!r.ok && r.reason === 'oversized') {
      expect(r.bytes).toBe(appendEntriesOverheadBytes(CLUSTER, 'n1', 'n2') + entries.reduce((n, e) => n + entryWireBytes(e), 0));
    } else {
      throw new Error(`expected oversized, got ${JSON.stringify(r)}`);
    }
  });
});
