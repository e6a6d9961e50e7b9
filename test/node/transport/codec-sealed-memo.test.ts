/**
 * The memo of sealed datagrams (codec.ts `rememberSealedDatagrams`, what the
 * simulator turns on): decoding a datagram this process sealed skips the
 * recomputed MAC, and must give exactly the verdict the full HMAC path
 * gives, for the datagram as sealed and for one changed in place after.
 * (Its own file: the memo, once on, stays on for the module's life.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, domainOf, encodeEnvelope, rememberSealedDatagrams } from '../../../node/transport/codec.js';
import type { DecodeResult, Envelope, Stamp } from '../../../node/transport/codec.js';
import { deriveClientKey, type KeyLookup } from '../../../node/transport/keys.js';
import { arbEnvelope } from './arbitraries.js';
import { keyLookupOf } from './key-lookup.js';

const CLUSTER = 'rift-test';
const STAMP: Stamp = { senderIncarnation: 3, receiverIncarnation: 5, counter: 7, sentAtMs: 1_700_000_000_000 };

function ringOf(peerSecret: string, clientSecret: string): KeyLookup {
  return keyLookupOf(peerSecret, deriveClientKey(clientSecret));
}

const RING = ringOf('correct horse battery staple', 'a different secret, for clients');
/** The same secrets, other key objects (the simulator's node and client rings each derive their own). */
const SAME_KEYS = ringOf('correct horse battery staple', 'a different secret, for clients');
const OTHER_KEYS = ringOf('another secret, also long', 'another client secret');

function sealed(env: Envelope): Buffer {
  const r = encodeEnvelope(env, RING.keyFor(domainOf(env.body), env.from)!, STAMP);
  if (!r.ok) throw new Error(`encode failed: ${r.detail}`);
  return r.datagram;
}

/** The verdict, as the full HMAC path gives it: on a fresh copy of the bytes, which the memo never holds. */
function fullPath(buf: Uint8Array, ring: KeyLookup): DecodeResult {
  return decodeEnvelope(Buffer.from(buf), ring, CLUSTER);
}

describe('codec: the memo of sealed datagrams gives the full path verdicts', () => {
  rememberSealedDatagrams();

  it('a sealed datagram, decoded as sealed, under the same key bytes and under other keys', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), (env) => {
        const buf = sealed(env);
        for (const ring of [RING, SAME_KEYS, OTHER_KEYS]) {
          const memo = decodeEnvelope(buf, ring, CLUSTER);
          expect(memo).toEqual(fullPath(buf, ring));
        }
        expect(decodeEnvelope(buf, RING, CLUSTER).ok).toBe(true);
        expect(decodeEnvelope(buf, OTHER_KEYS, CLUSTER).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a sealed datagram changed in place after sealing (any byte, the MAC included)', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), fc.nat(), fc.integer({ min: 1, max: 255 }), (env, posSeed, xor) => {
        const buf = sealed(env);
        const pos = posSeed % buf.length;
        buf[pos] = buf[pos]! ^ xor;
        const memo = decodeEnvelope(buf, RING, CLUSTER);
        expect(memo.ok).toBe(false);
        expect(memo).toEqual(fullPath(buf, RING));
        // Changed back: the bytes are the sealed ones again, and valid.
        buf[pos] = buf[pos]! ^ xor;
        expect(decodeEnvelope(buf, RING, CLUSTER).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a view of a sealed datagram (another object, same bytes) and a datagram sealed long ago take the full path', () => {
    const first = sealed(fc.sample(arbEnvelope(CLUSTER), { seed: 1, numRuns: 1 })[0]!);
    for (const env of fc.sample(arbEnvelope(CLUSTER), { seed: 2, numRuns: 600 })) sealed(env);
    expect(decodeEnvelope(first, RING, CLUSTER)).toEqual(fullPath(first, RING));
    expect(decodeEnvelope(first, RING, CLUSTER).ok).toBe(true);
    const view = new Uint8Array(first.buffer, first.byteOffset, first.length);
    expect(decodeEnvelope(view, RING, CLUSTER)).toEqual(fullPath(first, RING));
  });
});
