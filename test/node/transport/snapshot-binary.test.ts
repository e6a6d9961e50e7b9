/**
 * The snapshot transfer messages on the wire (node/transport/snapshot-binary.ts
 * through the codec): they round-trip, a full chunk with the largest
 * configuration still fits one datagram, they travel only in the peer key
 * domain, and no byte string makes the reader throw.
 *
 * The fuzz test prints its seed; replay it with SNAPSHOT_WIRE_SEED=<seed>.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { SnapshotAck, SnapshotChunk } from '../../../node/protocol.js';
import {
  FIXED_HEADER_BYTES,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  WIRE_VERSION,
  decodeEnvelope,
  encodeEnvelope,
  type Stamp,
} from '../../../node/transport/codec.js';
import { deriveClientKey, derivePeerKey, type KeyLookup } from '../../../node/transport/keys.js';
import { decodeSnapshotBinary, encodeSnapshotBinary, type SnapshotEnvelope } from '../../../node/transport/snapshot-binary.js';
import { defaultStreamerOptions } from '../../../node/snapshot/streamer.js';
import { snapshotChecksum } from '../../../node/snapshot/snapshot-bytes.js';
import { MAX_MEMBERS } from '../../../node/raft/configuration.js';

const CLUSTER = 'rift-test';
const PEER_SECRET = 'correct horse battery staple';
const CLIENT_KEY = deriveClientKey('a different secret, for clients');
const RING: KeyLookup = { keyFor: (domain, sender) => (domain === 'peer' ? derivePeerKey(PEER_SECRET, sender) : CLIENT_KEY) };
const STAMP: Stamp = { senderIncarnation: 3, receiverIncarnation: 5, counter: 7, sentAtMs: 1_700_000_000_000 };

function chunk(data: Buffer, overrides: Partial<SnapshotChunk> = {}): SnapshotChunk {
  return {
    type: 'snapshot_chunk',
    term: 4,
    from: 'n1',
    to: 'n2',
    seq: 17,
    snapshot: { index: 900, term: 3, configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } },
    totalBytes: data.length,
    chunkBytes: data.length,
    checksum: snapshotChecksum(data),
    offset: 0,
    data,
    ...overrides,
  };
}

const ACK: SnapshotAck = {
  type: 'snapshot_ack',
  term: 4,
  from: 'n2',
  to: 'n1',
  seq: 17,
  offset: 61440,
  status: 'rejected',
  reason: 'checksum mismatch',
};

describe('snapshot transfer messages on the wire', () => {
  test('a chunk and an ack round-trip through the codec, in the peer domain', () => {
    for (const body of [chunk(Buffer.from('hello snapshot')), ACK]) {
      const encoded = encodeEnvelope(
        { cluster: CLUSTER, from: body.from, to: body.to, body },
        derivePeerKey(PEER_SECRET, body.from),
        STAMP,
      );
      if (!encoded.ok) throw new Error(encoded.detail);
      const decoded = decodeEnvelope(encoded.datagram, RING, CLUSTER);
      if (!decoded.ok) throw new Error(decoded.detail);
      expect(decoded.auth.domain).toBe('peer');
      expect(decoded.envelope.body).toEqual(body);
    }
  });

  test('a full chunk with the largest configuration (32 members, 32-char ids) fits one datagram', () => {
    const id = (i: number): string => `node-${String(i).padStart(2, '0')}-${'x'.repeat(23)}`;
    const members = Array.from({ length: MAX_MEMBERS }, (_, i) => id(i)).sort();
    const data = Buffer.alloc(defaultStreamerOptions.chunkBytes, 7);
    const body = chunk(data, {
      from: members[0]!,
      to: members[1]!,
      snapshot: { index: 2 ** 40, term: 2 ** 30, configuration: { voters: members.slice(0, 16), learners: members.slice(16) } },
      term: 2 ** 31,
      totalBytes: 2 ** 29,
      offset: 2 ** 28 - (2 ** 28 % data.length),
    });
    const cluster = 'c'.repeat(64);
    const encoded = encodeEnvelope({ cluster, from: body.from, to: body.to, body }, derivePeerKey(PEER_SECRET, body.from), STAMP);
    if (!encoded.ok) throw new Error(encoded.detail);
    expect(encoded.datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const decoded = decodeEnvelope(encoded.datagram, RING, cluster);
    expect(decoded.ok).toBe(true);
  });

  test('a chunk sealed with the client key is refused (wrong_domain): a client cannot feed a snapshot to a node', () => {
    const body = chunk(Buffer.from('x'));
    const out = Buffer.alloc(70_000);
    const written = encodeSnapshotBinary({ cluster: CLUSTER, from: 'n1', to: 'n2', body }, out, 0, out.length);
    if (!written.ok) throw new Error('encode');
    const head = Buffer.alloc(FIXED_HEADER_BYTES);
    MAGIC.copy(head, 0);
    head[4] = WIRE_VERSION;
    head[5] = 2; // client domain
    head.writeDoubleLE(STAMP.senderIncarnation, 6);
    head.writeDoubleLE(0, 14);
    head.writeDoubleLE(STAMP.counter, 22);
    head.writeDoubleLE(STAMP.sentAtMs, 30);
    head[38] = 2;
    const signed = Buffer.concat([head, Buffer.from('n1'), out.subarray(0, written.bytes)]);
    const datagram = Buffer.concat([signed, createHmac('sha256', CLIENT_KEY).update(signed).digest()]);
    const decoded = decodeEnvelope(datagram, RING, CLUSTER);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toBe('wrong_domain');
  });

  test('the sender refuses a chunk the receiver would refuse (geometry, checksum form)', () => {
    const data = Buffer.from('abcdef');
    for (const bad of [{ offset: 3 }, { totalBytes: 5 }, { checksum: 'ABC' }, { chunkBytes: 0 }]) {
      const body = chunk(data, bad);
      const encoded = encodeEnvelope({ cluster: CLUSTER, from: 'n1', to: 'n2', body }, derivePeerKey(PEER_SECRET, 'n1'), STAMP);
      expect(encoded.ok, JSON.stringify(bad)).toBe(false);
    }
  });

  test('no byte string makes the reader throw; truncations and flipped bytes are refused or read as valid messages', () => {
    const fixed = process.env['SNAPSHOT_WIRE_SEED'];
    const seed = fixed !== undefined ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
    console.log(`snapshot wire fuzz seed ${seed} (replay: SNAPSHOT_WIRE_SEED=${seed})`);
    const out = Buffer.alloc(70_000);
    const env: SnapshotEnvelope = { cluster: CLUSTER, from: 'n1', to: 'n2', body: chunk(Buffer.from('0123456789')) };
    const written = encodeSnapshotBinary(env, out, 0, out.length);
    if (!written.ok) throw new Error('encode');
    const valid = Buffer.from(out.subarray(0, written.bytes));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: valid.length }),
        (at, byte, cut) => {
          const mutated = Buffer.from(valid);
          mutated[at] = byte;
          for (const candidate of [mutated, valid.subarray(0, cut)]) {
            const r = decodeSnapshotBinary(candidate, 0, candidate.length);
            if (r.ok) expect(r.envelope.body.type).toMatch(/^snapshot_(chunk|ack)$/);
            else expect(typeof r.detail).toBe('string');
          }
        },
      ),
      { seed, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (bytes) => {
        const buf = Buffer.from(bytes);
        expect(() => decodeSnapshotBinary(buf, 0, buf.length)).not.toThrow();
      }),
      { seed, numRuns: 2000 },
    );
  });
});
