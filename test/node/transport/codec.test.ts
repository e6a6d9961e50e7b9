import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIXED_HEADER_BYTES,
  MAC_BYTES,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  MIN_DATAGRAM_BYTES,
  WIRE_VERSION,
  appendEntriesOverheadBytes,
  decodeEnvelope,
  maxEntryDataBytes,
  domainOf,
  encodeEnvelope,
  entryWireBytes,
  payloadBounds,
} from '../../../node/transport/codec.js';
import type { DropReason, Envelope, Stamp } from '../../../node/transport/codec.js';
import { deriveClientKey, derivePeerKey, type KeyDomain, type KeyLookup } from '../../../node/transport/keys.js';
import type { Entry } from '../../../node/raft/types.js';
import { MAX_ID_CHARS } from '../../../node/transport/validate.js';
import { arbEnvelope, arbStamp } from './arbitraries.js';
import { keyLookupOf } from './key-lookup.js';

const CLUSTER = 'rift-test';
const PEER_SECRET = 'correct horse battery staple';
const CLIENT_KEY = deriveClientKey('a different secret, for clients');
const OTHER_PEER_SECRET = 'another secret, also long';
const STAMP: Stamp = { senderIncarnation: 3, receiverIncarnation: 5, counter: 7, sentAtMs: 1_700_000_000_000 };

/** Every sender's peer key, derived on demand (the arbitrary ids are not known in advance). */
function ringOf(peerSecret: string): KeyLookup {
  return keyLookupOf(peerSecret, CLIENT_KEY);
}

const RING = ringOf(PEER_SECRET);

/** The key an honest sender seals `env` with: its own peer key, or the client key. */
function keyOf(env: Envelope, ring = RING): Buffer {
  return ring.keyFor(domainOf(env.body), env.from)!;
}

function encodeOk(env: Envelope, key = keyOf(env), stamp = STAMP): Buffer {
  const r = encodeEnvelope(env, key, stamp);
  if (!r.ok) throw new Error(`encode failed: ${r.detail}`);
  return r.datagram;
}

/** The header bytes for `sender` in `domain` with STAMP (the layout in codec.ts). */
function header(domain: KeyDomain, sender: string, stamp = STAMP): Buffer {
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  MAGIC.copy(fixed, 0);
  fixed[4] = WIRE_VERSION;
  fixed[5] = domain === 'peer' ? 1 : 2;
  fixed.writeDoubleLE(stamp.senderIncarnation, 6);
  fixed.writeDoubleLE(stamp.receiverIncarnation, 14);
  fixed.writeDoubleLE(stamp.counter, 22);
  fixed.writeDoubleLE(stamp.sentAtMs, 30);
  const id = Buffer.from(sender, 'utf8');
  fixed[38] = id.length;
  return Buffer.concat([fixed, id]);
}

/**
 * Builds a datagram around arbitrary payload bytes with a CORRECT MAC (by
 * createHmac, independently of the codec's own HMAC): reaches the parser and
 * validators. By default in the domain and under the key an honest sender of
 * that JSON would use.
 */
function seal(json: string | Buffer, opts: { domain?: KeyDomain; sender?: string; key?: Buffer } = {}): Buffer {
  const payload = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  let guess: { domain: KeyDomain; sender: string } = { domain: 'client', sender: 'c1' };
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { from?: unknown; body?: { type?: unknown } };
    const type = parsed?.body?.type;
    const peer =
      typeof type === 'string' &&
      ['request_vote', 'request_vote_response', 'append_entries', 'append_entries_response', 'timeout_now', 'hello'].includes(type);
    guess = {
      domain: peer ? 'peer' : 'client',
      sender: typeof parsed?.from === 'string' && parsed.from.length > 0 && Buffer.byteLength(parsed.from) <= 255 ? parsed.from : 'c1',
    };
  } catch {
    // not JSON: client domain, sender c1
  }
  const domain = opts.domain ?? guess.domain;
  const sender = opts.sender ?? guess.sender;
  const key = opts.key ?? RING.keyFor(domain, sender)!;
  const signed = Buffer.concat([header(domain, sender), payload]);
  return Buffer.concat([signed, createHmac('sha256', key).update(signed).digest()]);
}

function reasonOf(buf: Uint8Array, cluster = CLUSTER, ring = RING): DropReason | 'ok' {
  const r = decodeEnvelope(buf, ring, cluster);
  return r.ok ? 'ok' : r.reason;
}

const vote: Envelope = {
  cluster: CLUSTER,
  from: 'n1',
  to: 'n2',
  body: { type: 'request_vote', term: 3, from: 'n1', to: 'n2', lastLogIndex: 7, lastLogTerm: 2, preVote: false },
};

describe('codec round trip', () => {
  it('every message type encodes and decodes to an equal envelope and stamp (property)', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), arbStamp, (env, stamp) => {
        const buf = encodeOk(env, keyOf(env), stamp);
        expect(buf.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
        const r = decodeEnvelope(buf, RING, CLUSTER);
        if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`);
        expect(r.envelope).toEqual(env);
        expect(r.auth).toEqual({ ...stamp, domain: domainOf(env.body), sender: env.from });
      }),
      { numRuns: 300 },
    );
  });

  it('lays out magic, version, header, a JSON client message and a trailing MAC over everything before it, as specified', () => {
    const request: Envelope = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'status_request', requestId: 'r1' } };
    const buf = encodeOk(request);
    expect(buf.subarray(0, 4).toString('ascii')).toBe('RIFT');
    expect(buf[4]).toBe(4);
    expect(buf.subarray(0, FIXED_HEADER_BYTES + 2)).toEqual(header('client', 'c1'));
    const signed = buf.subarray(0, buf.length - MAC_BYTES);
    expect(buf.subarray(buf.length - MAC_BYTES)).toEqual(createHmac('sha256', CLIENT_KEY).update(signed).digest());
    const json = buf.subarray(FIXED_HEADER_BYTES + 2, buf.length - MAC_BYTES);
    expect(payloadBounds(buf)).toEqual({ start: FIXED_HEADER_BYTES + 2, end: buf.length - MAC_BYTES });
    expect(JSON.parse(json.toString('utf8'))).toEqual(request);
  });

  it("sends Raft messages in the binary form, in the peer domain, under the sender's peer key", () => {
    const buf = encodeOk(vote);
    expect(buf.subarray(0, 4).toString('ascii')).toBe('RIFT');
    expect(buf[4]).toBe(4);
    expect(buf.subarray(0, FIXED_HEADER_BYTES + 2)).toEqual(header('peer', 'n1'));
    const signed = buf.subarray(0, buf.length - MAC_BYTES);
    expect(buf.subarray(buf.length - MAC_BYTES)).toEqual(createHmac('sha256', derivePeerKey(PEER_SECRET, 'n1')).update(signed).digest());
    const payload = buf.subarray(FIXED_HEADER_BYTES + 2, buf.length - MAC_BYTES);
    expect(payload[0]).toBe(1); // request_vote
    expect(payload.readUInt16LE(1)).toBe(CLUSTER.length);
    expect(payload.subarray(3, 3 + CLUSTER.length).toString('utf8')).toBe(CLUSTER);
  });

  it('still accepts any Raft message in the JSON form', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), (env) => {
        const r = decodeEnvelope(seal(JSON.stringify(env), { domain: domainOf(env.body), sender: env.from }), RING, CLUSTER);
        if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`);
        expect(r.envelope).toEqual(env);
      }),
      { numRuns: 200 },
    );
  });

  it('peer keys are deterministic, 32 bytes, differ between secrets and between nodes, and differ from the client key', () => {
    expect(derivePeerKey('s3cret-s3cret-s3cret', 'n1')).toEqual(derivePeerKey('s3cret-s3cret-s3cret', 'n1'));
    expect(derivePeerKey('s3cret-s3cret-s3cret', 'n1').length).toBe(32);
    expect(derivePeerKey('s3cret-s3cret-s3cret', 'n1')).not.toEqual(derivePeerKey('s3cret-s3cret-s3creT', 'n1'));
    expect(derivePeerKey('s3cret-s3cret-s3cret', 'n1')).not.toEqual(derivePeerKey('s3cret-s3cret-s3cret', 'n2'));
    expect(deriveClientKey('s3cret-s3cret-s3cret')).not.toEqual(derivePeerKey('s3cret-s3cret-s3cret', 'n1'));
    expect(deriveClientKey('s3cret-s3cret-s3cret').length).toBe(32);
  });
});

describe('codec key domains (issue 15 defect 5: a client key must never speak as a peer)', () => {
  const forged: Envelope = {
    cluster: CLUSTER,
    from: 'n2',
    to: 'n1',
    body: {
      type: 'append_entries',
      term: 9,
      from: 'n2',
      to: 'n1',
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [{ term: 9, index: 1, type: 'command', data: 'x' }],
      leaderCommit: 1,
      seq: 1,
    },
  };

  it('an AppendEntries "from n2" MACed with the client key is refused, in either domain and either form', () => {
    // Peer domain: verified under n2's peer key, which the client key is not.
    expect(reasonOf(encodeOk(forged, CLIENT_KEY))).toBe('bad_mac');
    expect(reasonOf(seal(JSON.stringify(forged), { domain: 'peer', sender: 'n2', key: CLIENT_KEY }))).toBe('bad_mac');
    // Client domain: the MAC verifies, but a Raft message never travels there.
    const binary = Buffer.from(encodeOk(forged, CLIENT_KEY));
    binary[5] = 2;
    const signed = binary.subarray(0, binary.length - MAC_BYTES);
    createHmac('sha256', CLIENT_KEY)
      .update(signed)
      .digest()
      .copy(binary, binary.length - MAC_BYTES);
    expect(reasonOf(binary)).toBe('wrong_domain');
    expect(reasonOf(seal(JSON.stringify(forged), { domain: 'client', sender: 'n2', key: CLIENT_KEY }))).toBe('wrong_domain');
    expect(
      reasonOf(
        seal(JSON.stringify({ ...forged, from: 'c1', body: { type: 'hello' } }), { domain: 'client', sender: 'c1', key: CLIENT_KEY }),
      ),
    ).toBe('wrong_domain');
  });

  it("a MAC made with one node's peer key does not verify as another node's message", () => {
    expect(reasonOf(encodeOk(forged, derivePeerKey(PEER_SECRET, 'n3')))).toBe('bad_mac');
    expect(reasonOf(encodeOk(forged, derivePeerKey(PEER_SECRET, 'n2')))).toBe('ok');
  });

  it("the header's sender must be the envelope's from, and a sender the ring does not know is unknown_sender", () => {
    const n3key = derivePeerKey(PEER_SECRET, 'n3');
    expect(reasonOf(seal(JSON.stringify(forged), { domain: 'peer', sender: 'n3', key: n3key }))).toBe('sender_mismatch');
    const request = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'status_request', requestId: 'r' } };
    expect(reasonOf(seal(JSON.stringify(request), { domain: 'client', sender: 'c2' }))).toBe('sender_mismatch');
    const onlyN1: KeyLookup = {
      keyFor: (domain, sender) => (domain === 'peer' ? (sender === 'n1' ? derivePeerKey(PEER_SECRET, 'n1') : null) : CLIENT_KEY),
    };
    expect(reasonOf(encodeOk(forged), CLUSTER, onlyN1)).toBe('unknown_sender');
    const noClients: KeyLookup = { keyFor: (domain, sender) => (domain === 'peer' ? derivePeerKey(PEER_SECRET, sender) : null) };
    expect(reasonOf(encodeOk(request as Envelope), CLUSTER, noClients)).toBe('unknown_sender');
  });

  it('the encoder picks the domain from the body and refuses a token outside the client domain', () => {
    expect(encodeEnvelope({ ...forged, token: 'abc' }, keyOf(forged), STAMP)).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(
      encodeEnvelope({ cluster: CLUSTER, from: 'n1', to: 'n2', body: { type: 'hello' }, token: 'abc' }, keyOf(vote), STAMP),
    ).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(encodeEnvelope(vote, keyOf(vote), { ...STAMP, counter: 0 })).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(encodeEnvelope(vote, keyOf(vote), { ...STAMP, sentAtMs: 1.5 })).toMatchObject({ ok: false, reason: 'invalid_message' });
  });
});

describe('codec size limit', () => {
  it('refuses to encode an envelope over MAX_DATAGRAM_BYTES', () => {
    const env: Envelope = {
      cluster: CLUSTER,
      from: 'c1',
      to: 'n1',
      body: {
        type: 'client_request',
        clientId: 'c1',
        instance: 1,
        seq: 1,
        op: { type: 'put', key: 'k', value: 'x'.repeat(MAX_DATAGRAM_BYTES) },
      },
    };
    const r = encodeEnvelope(env, CLIENT_KEY, STAMP);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('oversized');
      if (r.reason === 'oversized') expect(r.bytes).toBeGreaterThan(MAX_DATAGRAM_BYTES);
    }
  });

  it('accepts exactly MAX_DATAGRAM_BYTES and rejects one byte more', () => {
    const base: Envelope = {
      cluster: CLUSTER,
      from: 'c1',
      to: 'n1',
      body: { type: 'client_request', clientId: 'c1', instance: 1, seq: 1, op: { type: 'put', key: 'k', value: '' } },
    };
    const baseLen = encodeOk(base).length;
    const fill = (n: number): Envelope => ({
      ...base,
      body: { type: 'client_request', clientId: 'c1', instance: 1, seq: 1, op: { type: 'put', key: 'k', value: 'v'.repeat(n) } },
    });
    const exact = encodeOk(fill(MAX_DATAGRAM_BYTES - baseLen));
    expect(exact.length).toBe(MAX_DATAGRAM_BYTES);
    expect(reasonOf(exact)).toBe('ok');
    expect(encodeEnvelope(fill(MAX_DATAGRAM_BYTES - baseLen + 1), CLIENT_KEY, STAMP).ok).toBe(false);
    expect(reasonOf(Buffer.concat([exact, Buffer.from('x')]))).toBe('oversized');
  });

  it('an AppendEntries whose entries fit the budget from appendEntriesOverheadBytes always encodes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 4000, unit: 'binary' }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 100, max: Number.MAX_SAFE_INTEGER }),
        (datas, big) => {
          const budget = MAX_DATAGRAM_BYTES - appendEntriesOverheadBytes(CLUSTER, 'node-1', 'node-2');
          const entries: Entry[] = [];
          let used = 0;
          for (const [i, data] of datas.entries()) {
            const e: Entry = { term: big, index: big - datas.length + i + 1, type: 'command', data };
            if (used + entryWireBytes(e) > budget) break;
            used += entryWireBytes(e);
            entries.push(e);
          }
          const env: Envelope = {
            cluster: CLUSTER,
            from: 'node-1',
            to: 'node-2',
            body: {
              type: 'append_entries',
              term: big,
              from: 'node-1',
              to: 'node-2',
              prevLogIndex: big,
              prevLogTerm: big,
              entries,
              leaderCommit: big,
              seq: big,
            },
          };
          const r = encodeEnvelope(env, keyOf(env), { senderIncarnation: big, receiverIncarnation: big, counter: big, sentAtMs: big });
          expect(r.ok).toBe(true);
          if (r.ok && entries.length === 0) expect(r.datagram.length).toBe(appendEntriesOverheadBytes(CLUSTER, 'node-1', 'node-2'));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('maxEntryDataBytes', () => {
  // A leader sends at least one entry a message: an entry it could not send at all would hold back every later one.
  it('is the largest entry data that travels alone in an AppendEntries between nodes with ids at their longest', () => {
    const longest = 'x'.repeat(MAX_ID_CHARS);
    const appendWith = (data: string): Envelope => ({
      cluster: CLUSTER,
      from: longest,
      to: longest,
      body: {
        type: 'append_entries',
        term: Number.MAX_SAFE_INTEGER,
        from: longest,
        to: longest,
        prevLogIndex: Number.MAX_SAFE_INTEGER - 1,
        prevLogTerm: Number.MAX_SAFE_INTEGER,
        entries: [{ term: Number.MAX_SAFE_INTEGER, index: Number.MAX_SAFE_INTEGER, type: 'command', data }],
        leaderCommit: Number.MAX_SAFE_INTEGER,
        seq: Number.MAX_SAFE_INTEGER,
      },
    });
    const big = Number.MAX_SAFE_INTEGER;
    const stamp = { senderIncarnation: big, receiverIncarnation: big, counter: big, sentAtMs: big };
    const limit = maxEntryDataBytes(CLUSTER);
    expect(limit).toBeGreaterThan(60_000);
    const fits = encodeEnvelope(appendWith('\u00e9'.repeat(limit / 2) + 'x'.repeat(limit % 2)), keyOf(appendWith('')), stamp);
    expect(fits.ok && fits.datagram.length).toBe(MAX_DATAGRAM_BYTES);
    expect(encodeEnvelope(appendWith('x'.repeat(limit + 1)), keyOf(appendWith('')), stamp)).toMatchObject({
      ok: false,
      reason: 'oversized',
    });
    // Shorter ids leave more room: the limit holds for every pair of nodes.
    expect(maxEntryDataBytes(CLUSTER)).toBeLessThan(MAX_DATAGRAM_BYTES - appendEntriesOverheadBytes(CLUSTER, 'n1', 'n2'));
  });
});

describe('codec rejects bad input without throwing', () => {
  it('random bytes never decode as valid', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(reasonOf(bytes)).not.toBe('ok');
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes behind a valid header fail the MAC', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<KeyDomain>('peer', 'client'),
        fc.uint8Array({ minLength: MAC_BYTES + 1, maxLength: 2000 }),
        (domain, bytes) => {
          const buf = Buffer.concat([header(domain, 'n1'), bytes]);
          expect(reasonOf(buf)).toBe('bad_mac');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('flipping any byte of a valid datagram gives the reason for that position', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), fc.nat(), fc.integer({ min: 1, max: 255 }), (env, posSeed, xor) => {
        const buf = Buffer.from(encodeOk(env));
        const pos = posSeed % buf.length;
        const senderEnd = FIXED_HEADER_BYTES + buf[FIXED_HEADER_BYTES - 1]!;
        buf[pos] = (buf[pos] as number) ^ xor;
        const reason = reasonOf(buf);
        if (pos < 4) expect(reason).toBe('bad_magic');
        else if (pos === 4) expect(reason).toBe('bad_version');
        // The bytes that choose the key: the domain, the sender's length and the sender.
        else if (pos === 5) expect(['bad_header', 'bad_mac', 'unknown_sender']).toContain(reason);
        else if (pos >= FIXED_HEADER_BYTES - 1 && pos < senderEnd)
          expect(['bad_header', 'bad_mac', 'too_short', 'unknown_sender']).toContain(reason);
        else expect(reason).toBe('bad_mac');
      }),
      { numRuns: 300 },
    );
  });

  it('truncated or extended datagrams are rejected', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }), (env, cutSeed, extra) => {
        const buf = encodeOk(env);
        const cut = cutSeed % buf.length;
        const payloadStart = FIXED_HEADER_BYTES + buf[FIXED_HEADER_BYTES - 1]!;
        const expectedCut = cut < MIN_DATAGRAM_BYTES || cut - MAC_BYTES <= payloadStart ? 'too_short' : 'bad_mac';
        expect(reasonOf(buf.subarray(0, cut))).toBe(expectedCut);
        expect(reasonOf(Buffer.concat([buf, extra]))).toBe(buf.length + extra.length > MAX_DATAGRAM_BYTES ? 'oversized' : 'bad_mac');
      }),
      { numRuns: 200 },
    );
  });

  it('a datagram sealed with another secret is bad_mac', () => {
    expect(reasonOf(encodeOk(vote, keyOf(vote, ringOf(OTHER_PEER_SECRET))))).toBe('bad_mac');
  });

  it('wrong version byte is bad_version even with a valid MAC', () => {
    for (const version of [0, 1, 2, 3, 255]) {
      const buf = Buffer.from(encodeOk(vote));
      buf[4] = version;
      createHmac('sha256', keyOf(vote))
        .update(buf.subarray(0, buf.length - MAC_BYTES))
        .digest()
        .copy(buf, buf.length - MAC_BYTES);
      expect(reasonOf(buf)).toBe('bad_version');
    }
  });

  it('a valid MAC over a header with an ill-formed stamp is bad_header', () => {
    for (const [offset, value] of [
      [6, -1],
      [14, 1.5],
      [22, 0],
      [30, 2 ** 53],
    ] as const) {
      const buf = Buffer.from(encodeOk(vote));
      buf.writeDoubleLE(value, offset);
      createHmac('sha256', keyOf(vote))
        .update(buf.subarray(0, buf.length - MAC_BYTES))
        .digest()
        .copy(buf, buf.length - MAC_BYTES);
      expect(reasonOf(buf)).toBe('bad_header');
    }
  });

  it('a valid MAC over non-JSON or invalid UTF-8 is malformed_json', () => {
    expect(reasonOf(seal(' '))).toBe('malformed_json');
    expect(reasonOf(seal('{"cluster":'))).toBe('malformed_json');
    expect(reasonOf(seal(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))).toBe('malformed_json');
    expect(reasonOf(seal('['.repeat(60_000)))).toBe('malformed_json');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), (bytes) => {
        expect(['malformed_json', 'invalid_message', 'wrong_domain']).toContain(reasonOf(seal(Buffer.from(bytes))));
      }),
    );
  });

  it('a valid MAC over arbitrary JSON values is never accepted', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(reasonOf(seal(JSON.stringify(v) ?? 'null'))).toBe('invalid_message');
      }),
      { numRuns: 300 },
    );
  });

  it('a valid envelope from another cluster (same secret) is wrong_cluster', () => {
    expect(reasonOf(encodeOk({ ...vote, cluster: 'other-cluster' }))).toBe('wrong_cluster');
  });

  it('deeply nested JSON with a valid MAC does not throw', () => {
    const nested = `{"cluster":"${CLUSTER}","from":"a","to":"b","body":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(reasonOf(seal(nested))).toBe('invalid_message');
  });
});

// ------------------------------------------------------------------ field-level validation (valid MAC, bad fields)

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Paths to every leaf (primitive) and every object, except inside `dropped` (a free-form map). */
function paths(v: Json, at: Path, leaves: Path[], objects: Path[]): void {
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) {
      v.forEach((x, i) => paths(x, [...at, i], leaves, objects));
      return;
    }
    if (at[at.length - 1] === 'dropped') {
      for (const k of Object.keys(v)) leaves.push([...at, k]);
      return;
    }
    objects.push(at);
    for (const k of Object.keys(v)) paths(v[k] as Json, [...at, k], leaves, objects);
    return;
  }
  leaves.push(at);
}

function getAt(v: Json, p: Path): Json {
  let cur: Json = v;
  for (const k of p) cur = (cur as Record<string, Json>)[k as string] as Json;
  return cur;
}

function setAt(v: Json, p: Path, value: Json | undefined): void {
  const parent = getAt(v, p.slice(0, -1)) as Record<string, Json>;
  const last = p[p.length - 1] as string;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

/** A value of a different JSON type: never acceptable where the original was. */
function wrongType(v: Json): Json {
  if (v === null) return false;
  switch (typeof v) {
    case 'number':
      return String(v);
    case 'string':
      return 7;
    case 'boolean':
      return 0;
    default:
      return null;
  }
}

describe('codec validates every field (valid MAC, bad fields)', () => {
  const arbCase = arbEnvelope(CLUSTER).chain((env) => {
    const json = JSON.parse(JSON.stringify(env)) as Json;
    const leaves: Path[] = [];
    const objects: Path[] = [];
    paths(json, [], leaves, objects);
    return fc.record({
      json: fc.constant(json),
      leaf: fc.constantFrom(...leaves),
      object: fc.constantFrom(...objects),
      mutation: fc.constantFrom('wrong_type', 'object', 'delete_field', 'extra_field', 'negative', 'fraction', 'unsafe', 'long_string'),
    });
  });

  it('any single corrupted field is invalid_message (or wrong_cluster for the cluster field)', () => {
    fc.assert(
      fc.property(arbCase, ({ json: generated, leaf, object, mutation }) => {
        const json = structuredClone(generated); // fast-check may hand the same constant to several runs
        const original = getAt(json, leaf);
        const inClock = leaf.includes('clock');
        switch (mutation) {
          case 'wrong_type':
            setAt(json, leaf, wrongType(original));
            break;
          case 'object':
            setAt(json, leaf, { x: 1 });
            break;
          case 'delete_field':
            if (object.length === 0) setAt(json, ['body'], undefined);
            else setAt(json, [...object, Object.keys(getAt(json, object) as object)[0] as string], undefined);
            break;
          case 'extra_field':
            if (object.length === 0) (json as Record<string, Json>)['extra'] = 1;
            else (getAt(json, object) as Record<string, Json>)['extra'] = 1;
            break;
          case 'negative':
          case 'fraction':
          case 'unsafe':
            if (typeof original !== 'number' || inClock) return; // clock fields are real numbers
            setAt(json, leaf, mutation === 'negative' ? -1 : mutation === 'fraction' ? 1.5 : 2 ** 53);
            break;
          case 'long_string':
            if (typeof original !== 'string') return;
            setAt(json, leaf, original + 'x'.repeat(70_000));
            break;
        }
        const buf = seal(JSON.stringify(json));
        const expected = mutation === 'long_string' ? ['invalid_message', 'oversized'] : ['invalid_message'];
        if (
          leaf.length === 1 &&
          leaf[0] === 'cluster' &&
          (mutation === 'long_string' || mutation === 'wrong_type' || mutation === 'object')
        ) {
          expected.push('wrong_cluster');
        }
        expect(expected).toContain(reasonOf(buf));
      }),
      { numRuns: 1000 },
    );
  });

  const cases: Array<[string, unknown]> = [
    ['unknown type', { type: 'install_snapshot', term: 1, from: 'n1', to: 'n2' }],
    ['prototype key as type', { type: 'constructor' }],
    [
      'entry term 0',
      {
        type: 'append_entries',
        term: 1,
        from: 'n1',
        to: 'n2',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 0, index: 1, type: 'noop', data: '' }],
        leaderCommit: 0,
        seq: 0,
      },
    ],
    [
      'entry index 0',
      {
        type: 'append_entries',
        term: 1,
        from: 'n1',
        to: 'n2',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 0, type: 'noop', data: '' }],
        leaderCommit: 0,
        seq: 0,
      },
    ],
    [
      'entry bad type',
      {
        type: 'append_entries',
        term: 1,
        from: 'n1',
        to: 'n2',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 1, type: 'config', data: '' }],
        leaderCommit: 0,
        seq: 0,
      },
    ],
    [
      'entries not an array',
      { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: {}, leaderCommit: 0, seq: 0 },
    ],
    [
      'too many entries',
      {
        type: 'append_entries',
        term: 1,
        from: 'n1',
        to: 'n2',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: Array.from({ length: 8193 }, () => 0),
        leaderCommit: 0,
        seq: 0,
      },
    ],
    ['unknown kv op', { type: 'client_request', clientId: 'c', instance: 1, seq: 1, op: { type: 'append', key: 'k', value: 'v' } }],
    ['unknown outcome', { type: 'client_response', clientId: 'c', seq: 1, outcome: { status: 'maybe' } }],
    ['bad invalid code', { type: 'client_response', clientId: 'c', seq: 1, outcome: { status: 'invalid', code: 'too_big', message: '' } }],
    ['empty client id', { type: 'client_request', clientId: '', instance: 1, seq: 1, op: { type: 'get', key: 'k' } }],
    ['client request without instance', { type: 'client_request', clientId: 'c', seq: 1, op: { type: 'get', key: 'k' } }],
    [
      'awaitLeader of 0 ms',
      {
        type: 'client_request',
        clientId: 'c',
        instance: 1,
        seq: 1,
        op: { type: 'get', key: 'k' },
        awaitLeader: { otherThan: 'n1', maxMs: 0 },
      },
    ],
    [
      'awaitLeader over 1000 ms',
      {
        type: 'client_request',
        clientId: 'c',
        instance: 1,
        seq: 1,
        op: { type: 'get', key: 'k' },
        awaitLeader: { otherThan: 'n1', maxMs: 1001 },
      },
    ],
    [
      'awaitLeader without a node',
      {
        type: 'client_request',
        clientId: 'c',
        instance: 1,
        seq: 1,
        op: { type: 'get', key: 'k' },
        awaitLeader: { otherThan: '', maxMs: 5 },
      },
    ],
    ['bad rejection code', { type: 'client_response', clientId: 'c', seq: 1, outcome: { status: 'rejected', code: 'nope', message: '' } }],
    ['retry token with bad characters', { type: 'retry', token: 'a b' }],
    ['hello with a field', { type: 'hello', term: 1 }],
    ['id too long', { type: 'status_request', requestId: 'r'.repeat(129) }],
    [
      'zero clock rate',
      {
        type: 'status_response',
        requestId: 'r',
        status: {
          id: 'n1',
          role: 'leader',
          currentTerm: 1,
          votedFor: null,
          leaderId: null,
          commitIndex: 0,
          lastApplied: 0,
          lastLogIndex: 0,
          clock: { nowMs: 1, offsetMs: 0, rate: 0 },
          dropped: {},
          unsafe: [],
        },
      },
    ],
    [
      'bad role',
      {
        type: 'status_response',
        requestId: 'r',
        status: {
          id: 'n1',
          role: 'king',
          currentTerm: 1,
          votedFor: null,
          leaderId: null,
          commitIndex: 0,
          lastApplied: 0,
          lastLogIndex: 0,
          clock: { nowMs: 1, offsetMs: 0, rate: 1 },
          dropped: {},
          unsafe: [],
        },
      },
    ],
    [
      'negative snapshot index',
      {
        type: 'status_response',
        requestId: 'r',
        status: {
          id: 'n1',
          role: 'leader',
          currentTerm: 1,
          votedFor: null,
          leaderId: null,
          commitIndex: 0,
          lastApplied: 0,
          lastLogIndex: 0,
          clock: { nowMs: 1, offsetMs: 0, rate: 1 },
          dropped: {},
          unsafe: [],
          snapshots: { firstIndex: 1, latest: { index: -1, term: 1, bytes: 10 }, taken: 0, installed: 0 },
        },
      },
    ],
    ['array body', []],
  ];
  it.each(cases)('%s is invalid_message', (_name, body) => {
    const from = 'n1';
    const to = 'n2';
    expect(reasonOf(seal(JSON.stringify({ cluster: CLUSTER, from, to, body })))).toBe('invalid_message');
  });

  it('a Raft body whose from/to disagree with the envelope is invalid_message', () => {
    const env = JSON.parse(JSON.stringify(vote)) as Record<string, unknown>;
    env['from'] = 'n3';
    expect(reasonOf(seal(JSON.stringify(env)))).toBe('invalid_message');
  });

  it('a token that is not base64url is invalid_message', () => {
    const request = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'status_request', requestId: 'r' }, token: 'not a token' };
    expect(reasonOf(seal(JSON.stringify(request)))).toBe('invalid_message');
  });

  it('encode refuses a message the receiver would reject', () => {
    const bad = { ...vote, body: { ...vote.body, term: -1 } } as Envelope;
    const r = encodeEnvelope(bad, keyOf(vote), STAMP);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe('invalid_message');
  });
});
