/**
 * The binary form of client requests and responses (node/transport/client-binary.ts).
 * The fuzz test prints its seed; replay it with CLIENT_WIRE_SEED=<seed>.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientRequest, ClientResponse } from '../../../node/protocol.js';
import {
  CLIENT_REQUEST_KIND,
  CLIENT_RESPONSE_KIND,
  decodeClientBinary,
  encodeClientBinary,
  type ClientBinaryEnvelope,
} from '../../../node/transport/client-binary.js';
import {
  FIXED_HEADER_BYTES,
  MAC_BYTES,
  MAGIC,
  WIRE_VERSION,
  decodeEnvelope,
  encodeEnvelope,
  payloadBounds,
  type DropReason,
  type Envelope,
  type Stamp,
} from '../../../node/transport/codec.js';
import { deriveClientKey, derivePeerKey, type KeyDomain, type KeyLookup } from '../../../node/transport/keys.js';
import { checkEnvelopeBody, checkEnvelopeShape } from '../../../node/transport/validate.js';
import { arbClientRequest, arbId, arbNat, arbOutcome, arbToken } from './arbitraries.js';

const CLUSTER = 'rift-test';
const PEER_SECRET = 'correct horse battery staple';
const CLIENT_KEY = deriveClientKey('a different secret, for clients');
const RING: KeyLookup = { keyFor: (domain, sender) => (domain === 'peer' ? derivePeerKey(PEER_SECRET, sender) : CLIENT_KEY) };
const STAMP: Stamp = { senderIncarnation: 3, receiverIncarnation: 5, counter: 7, sentAtMs: 1_700_000_000_000 };

const arbRequest: fc.Arbitrary<ClientRequest> = arbClientRequest;
const arbResponse: fc.Arbitrary<ClientResponse> = fc.record({
  type: fc.constant('client_response' as const),
  clientId: arbId,
  seq: arbNat,
  outcome: arbOutcome,
});
const arbClientEnvelope: fc.Arbitrary<ClientBinaryEnvelope> = fc
  .record({ from: arbId, to: arbId, body: fc.oneof(arbRequest, arbResponse), token: fc.option(arbToken, { nil: undefined }) })
  .map(({ token, ...rest }) => (token === undefined ? { cluster: CLUSTER, ...rest } : { cluster: CLUSTER, ...rest, token }));

function payloadOf(env: ClientBinaryEnvelope): Buffer {
  const out = Buffer.alloc(800_000);
  const r = encodeClientBinary(env, out, 0, out.length);
  if (!r.ok) throw new Error(`encode failed: ${JSON.stringify(r)}`);
  return Buffer.from(out.subarray(0, r.bytes));
}

/** A datagram with a correct MAC (createHmac, independent of the codec) around arbitrary payload bytes. */
function seal(payload: Buffer, domain: KeyDomain = 'client', sender = 'c1'): Buffer {
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  MAGIC.copy(fixed, 0);
  fixed[4] = WIRE_VERSION;
  fixed[5] = domain === 'peer' ? 1 : 2;
  fixed.writeDoubleLE(STAMP.senderIncarnation, 6);
  fixed.writeDoubleLE(STAMP.receiverIncarnation, 14);
  fixed.writeDoubleLE(STAMP.counter, 22);
  fixed.writeDoubleLE(STAMP.sentAtMs, 30);
  const id = Buffer.from(sender, 'utf8');
  fixed[38] = id.length;
  const signed = Buffer.concat([fixed, id, payload]);
  return Buffer.concat([signed, createHmac('sha256', RING.keyFor(domain, sender)!).update(signed).digest()]);
}

function reasonOf(buf: Buffer): DropReason | 'ok' {
  const r = decodeEnvelope(buf, RING, CLUSTER);
  return r.ok ? 'ok' : r.reason;
}

const put: ClientBinaryEnvelope = {
  cluster: CLUSTER,
  from: 'c1',
  to: 'n1',
  body: { type: 'client_request', clientId: 'c1', instance: 9, seq: 4, op: { type: 'put', key: 'k', value: 'v' } },
};

describe('client requests and responses on the wire', () => {
  it('go in the binary form (kind 8 and 9) and decode to equal envelopes (property)', () => {
    fc.assert(
      fc.property(arbClientEnvelope, (env) => {
        const encoded = encodeEnvelope(env, CLIENT_KEY, STAMP);
        if (!encoded.ok) throw new Error(`encode failed: ${encoded.detail}`);
        const bounds = payloadBounds(encoded.datagram)!;
        expect(encoded.datagram[bounds.start]).toBe(env.body.type === 'client_request' ? CLIENT_REQUEST_KIND : CLIENT_RESPONSE_KIND);
        const decoded = decodeEnvelope(encoded.datagram, RING, CLUSTER);
        if (!decoded.ok) throw new Error(`decode failed: ${decoded.reason} ${decoded.detail}`);
        expect(decoded.envelope).toEqual(env);
      }),
      { numRuns: 500 },
    );
  });

  it('lays out a request as specified', () => {
    const p = payloadOf({ ...put, token: 'tok' });
    const expected = Buffer.concat([
      Buffer.from([CLIENT_REQUEST_KIND]),
      Buffer.from([CLUSTER.length, 0]),
      Buffer.from(CLUSTER),
      Buffer.from([2, 0]),
      Buffer.from('c1'),
      Buffer.from([2, 0]),
      Buffer.from('n1'),
      Buffer.from([1, 3, 0]),
      Buffer.from('tok'),
      Buffer.from([2, 0]),
      Buffer.from('c1'),
      (() => {
        const b = Buffer.alloc(16);
        b.writeDoubleLE(9, 0);
        b.writeDoubleLE(4, 8);
        return b;
      })(),
      Buffer.from([2, 1, 0, 0, 0]),
      Buffer.from('k'),
      Buffer.from([1, 0, 0, 0]),
      Buffer.from('v'),
    ]);
    expect(p).toEqual(expected);
  });

  it('carries awaitLeader after the op, under flag 2, and refuses it out of range or on a response', () => {
    const env: ClientBinaryEnvelope = { ...put, body: { ...(put.body as ClientRequest), awaitLeader: { otherThan: 'n2', maxMs: 40 } } };
    const p = payloadOf(env);
    const plain = payloadOf(put);
    const flagsAt = 1 + 2 + CLUSTER.length + 4 + 4;
    expect(plain[flagsAt]).toBe(0);
    expect(p[flagsAt]).toBe(2);
    expect(p.subarray(p.length - 6)).toEqual(Buffer.from([2, 0, 0x6e, 0x32, 40, 0]));
    expect(reasonOf(seal(p))).toBe('ok');
    for (const maxMs of [0, 1001]) {
      const bad = Buffer.from(p);
      bad.writeUInt16LE(maxMs, bad.length - 2);
      expect(reasonOf(seal(bad))).toBe('invalid_message');
    }
    const response = payloadOf({
      ...put,
      body: { type: 'client_response', clientId: 'c1', seq: 4, outcome: { status: 'ok', value: null } },
    });
    response[flagsAt] = 2;
    expect(reasonOf(seal(response))).toBe('invalid_message');
  });

  it('carries the session mode in flags 4 (open) and 8 (existing), never both, and never on a response', () => {
    const flagsAt = 1 + 2 + CLUSTER.length + 4 + 4;
    const plain = payloadOf(put);
    for (const [session, flag] of [
      ['open', 4],
      ['existing', 8],
    ] as const) {
      const p = payloadOf({ ...put, body: { ...(put.body as ClientRequest), session } });
      expect(p[flagsAt]).toBe(flag);
      expect(p.length).toBe(plain.length); // the flag is the whole encoding
      expect(reasonOf(seal(p))).toBe('ok');
    }
    const both = payloadOf(put);
    both[flagsAt] = 4 | 8;
    expect(reasonOf(seal(both))).toBe('invalid_message');
    const response = payloadOf({
      ...put,
      body: { type: 'client_response', clientId: 'c1', seq: 4, outcome: { status: 'ok', value: null } },
    });
    for (const flag of [4, 8]) {
      const bad = Buffer.from(response);
      bad[flagsAt] = flag;
      expect(reasonOf(seal(bad))).toBe('invalid_message');
    }
  });

  it('is smaller than the JSON form of the same request', () => {
    const binary = encodeEnvelope(put, CLIENT_KEY, STAMP);
    const json = JSON.stringify(put);
    expect(binary.ok).toBe(true);
    if (binary.ok) expect(binary.datagram.length - FIXED_HEADER_BYTES - 2 - MAC_BYTES).toBeLessThan(json.length);
  });

  it('text UTF-8 cannot carry (a lone surrogate) goes as JSON, which escapes it, and arrives unchanged', () => {
    const env: Envelope = { ...put, body: { ...put.body, op: { type: 'put', key: 'k\ud800', value: 'v' } } as ClientRequest };
    const encoded = encodeEnvelope(env, CLIENT_KEY, STAMP);
    if (!encoded.ok) throw new Error(encoded.detail);
    expect(encoded.datagram[payloadBounds(encoded.datagram)!.start]).toBe('{'.charCodeAt(0));
    const decoded = decodeEnvelope(encoded.datagram, RING, CLUSTER);
    expect(decoded.ok && decoded.envelope).toEqual(env);
  });

  it('the JSON form of a request is still accepted', () => {
    expect(reasonOf(seal(Buffer.from(JSON.stringify(put))))).toBe('ok');
  });

  it('refuses each field the JSON form would refuse, with a reason', () => {
    const good = payloadOf(put);
    expect(reasonOf(seal(good))).toBe('ok');
    const withByte = (offset: number, value: number): Buffer => {
      const b = Buffer.from(good);
      b[offset] = value;
      return b;
    };
    const opAt = good.length - 11; // op code, then key (4 + 1) and value (4 + 1)
    expect(good[opAt]).toBe(2);
    expect(reasonOf(seal(withByte(opAt, 9)))).toBe('invalid_message'); // unknown op
    expect(reasonOf(seal(withByte(0, 10)))).toBe('malformed_json'); // unknown kind: neither binary nor JSON
    expect(reasonOf(seal(withByte(1 + 2 + CLUSTER.length + 4 + 4, 2)))).toBe('invalid_message'); // unknown flag bit
    expect(reasonOf(seal(Buffer.concat([good, Buffer.from([0])])))).toBe('invalid_message'); // trailing byte
    expect(reasonOf(seal(good.subarray(0, good.length - 1)))).toBe('invalid_message'); // truncated
    const emptyId = payloadOf({ ...put, body: { ...put.body, clientId: 'x' } as ClientRequest });
    const at = emptyId.indexOf(Buffer.from([1, 0, 'x'.charCodeAt(0)]));
    expect(reasonOf(seal(Buffer.concat([emptyId.subarray(0, at), Buffer.from([0, 0]), emptyId.subarray(at + 3)])))).toBe('invalid_message'); // empty clientId
    const badToken = payloadOf({ ...put, token: 'ab' });
    const t = badToken.indexOf(Buffer.from('ab'));
    badToken[t] = '+'.charCodeAt(0);
    expect(reasonOf(seal(badToken))).toBe('invalid_message'); // not base64url
    const negativeSeq = Buffer.from(good);
    negativeSeq.writeDoubleLE(-1, opAt - 8);
    expect(reasonOf(seal(negativeSeq))).toBe('invalid_message');
  });

  it('travels only in the client key domain, under the header sender', () => {
    expect(reasonOf(seal(payloadOf(put), 'peer', 'n2'))).toBe('wrong_domain');
    expect(reasonOf(seal(payloadOf(put), 'client', 'c2'))).toBe('sender_mismatch');
    expect(reasonOf(seal(payloadOf({ ...put, cluster: 'other' })))).toBe('wrong_cluster');
  });

  it('no byte string makes the reader throw; what it accepts passes the JSON validators and re-encodes to the same bytes', () => {
    const fixed = process.env['CLIENT_WIRE_SEED'];
    const seed = fixed !== undefined ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
    console.log(`client wire fuzz seed ${seed} (replay: CLIENT_WIRE_SEED=${seed})`);
    const mutated = fc
      .tuple(arbClientEnvelope, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.boolean())
      .map(([env, flips, cut, truncate]) => {
        const p = payloadOf(env);
        for (const [at, v] of flips) p[at % p.length] = v;
        return truncate ? p.subarray(0, cut % (p.length + 1)) : p;
      });
    fc.assert(
      fc.property(
        fc.oneof(
          mutated,
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from([8 + ((b[0] ?? 0) % 2)]), b])),
        ),
        (bytes) => {
          const r = decodeClientBinary(bytes, 0, bytes.length);
          if (!r.ok) {
            expect(r.detail.length).toBeGreaterThan(0);
            return;
          }
          expect(checkEnvelopeShape(r.envelope) ?? checkEnvelopeBody(r.envelope as unknown as Record<string, unknown>)).toBeNull();
          expect(payloadOf(r.envelope)).toEqual(bytes);
        },
      ),
      { seed, numRuns: 3000 },
    );
  });
});
