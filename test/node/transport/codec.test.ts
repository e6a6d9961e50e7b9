import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_BYTES,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  WIRE_VERSION,
  appendEntriesOverheadBytes,
  decodeEnvelope,
  deriveKey,
  encodeEnvelope,
  entryWireBytes,
} from '../../../node/transport/codec.js';
import type { DropReason, Envelope } from '../../../node/transport/codec.js';
import type { Entry } from '../../../node/raft/types.js';
import { arbEnvelope } from './arbitraries.js';

const CLUSTER = 'rift-test';
const KEY = deriveKey('correct horse battery staple');
const OTHER_KEY = deriveKey('another secret, also long');

function encodeOk(env: Envelope, key = KEY): Buffer {
  const r = encodeEnvelope(env, key);
  if (!r.ok) throw new Error(`encode failed: ${r.detail}`);
  return r.datagram;
}

/** Builds a datagram around arbitrary body bytes with a CORRECT MAC: reaches the parser and validators. */
function seal(json: string | Buffer, key = KEY): Buffer {
  const body = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  const mac = createHmac('sha256', key).update(body).digest();
  return Buffer.concat([MAGIC, Buffer.from([WIRE_VERSION]), mac, body]);
}

function reasonOf(buf: Uint8Array, cluster = CLUSTER): DropReason | 'ok' {
  const r = decodeEnvelope(buf, KEY, cluster);
  return r.ok ? 'ok' : r.reason;
}

const vote: Envelope = {
  cluster: CLUSTER,
  from: 'n1',
  to: 'n2',
  body: { type: 'request_vote', term: 3, from: 'n1', to: 'n2', lastLogIndex: 7, lastLogTerm: 2, preVote: false },
};

describe('codec round trip', () => {
  it('every message type encodes and decodes to an equal envelope (property)', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), (env) => {
        const buf = encodeOk(env);
        expect(buf.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
        const r = decodeEnvelope(buf, KEY, CLUSTER);
        if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`);
        expect(r.envelope).toEqual(env);
      }),
      { numRuns: 300 },
    );
  });

  it('lays out magic, version, MAC and a JSON client message as specified', () => {
    const request: Envelope = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'client_request', clientId: 'c1', seq: 1, op: { type: 'get', key: 'k' } } };
    const buf = encodeOk(request);
    expect(buf.subarray(0, 4).toString('ascii')).toBe('RIFT');
    expect(buf[4]).toBe(2);
    const json = buf.subarray(HEADER_BYTES);
    expect(buf.subarray(5, HEADER_BYTES)).toEqual(createHmac('sha256', KEY).update(json).digest());
    expect(JSON.parse(json.toString('utf8'))).toEqual(request);
  });

  it('sends Raft messages in the binary form, under the same header and MAC', () => {
    const buf = encodeOk(vote);
    expect(buf.subarray(0, 4).toString('ascii')).toBe('RIFT');
    expect(buf[4]).toBe(2);
    const payload = buf.subarray(HEADER_BYTES);
    expect(buf.subarray(5, HEADER_BYTES)).toEqual(createHmac('sha256', KEY).update(payload).digest());
    expect(payload[0]).toBe(1); // request_vote
    expect(payload.readUInt16LE(1)).toBe(CLUSTER.length);
    expect(payload.subarray(3, 3 + CLUSTER.length).toString('utf8')).toBe(CLUSTER);
  });

  it('still accepts any Raft message in the JSON form', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), (env) => {
        const r = decodeEnvelope(seal(JSON.stringify(env)), KEY, CLUSTER);
        if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`);
        expect(r.envelope).toEqual(env);
      }),
      { numRuns: 200 },
    );
  });

  it('deriveKey is deterministic, 32 bytes, and differs between secrets', () => {
    expect(deriveKey('s3cret-s3cret-s3cret')).toEqual(deriveKey('s3cret-s3cret-s3cret'));
    expect(deriveKey('s3cret-s3cret-s3cret').length).toBe(32);
    expect(deriveKey('s3cret-s3cret-s3cret')).not.toEqual(deriveKey('s3cret-s3cret-s3creT'));
  });
});

describe('codec size limit', () => {
  it('refuses to encode an envelope over MAX_DATAGRAM_BYTES', () => {
    const env: Envelope = {
      cluster: CLUSTER,
      from: 'c1',
      to: 'n1',
      body: { type: 'client_request', clientId: 'c1', seq: 1, op: { type: 'put', key: 'k', value: 'x'.repeat(MAX_DATAGRAM_BYTES) } },
    };
    const r = encodeEnvelope(env, KEY);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('oversized');
      if (r.reason === 'oversized') expect(r.bytes).toBeGreaterThan(MAX_DATAGRAM_BYTES);
    }
  });

  it('accepts exactly MAX_DATAGRAM_BYTES and rejects one byte more', () => {
    const base: Envelope = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'client_request', clientId: 'c1', seq: 1, op: { type: 'put', key: 'k', value: '' } } };
    const baseLen = encodeOk(base).length;
    const fill = (n: number): Envelope => ({ ...base, body: { type: 'client_request', clientId: 'c1', seq: 1, op: { type: 'put', key: 'k', value: 'v'.repeat(n) } } });
    const exact = encodeOk(fill(MAX_DATAGRAM_BYTES - baseLen));
    expect(exact.length).toBe(MAX_DATAGRAM_BYTES);
    expect(reasonOf(exact)).toBe('ok');
    expect(encodeEnvelope(fill(MAX_DATAGRAM_BYTES - baseLen + 1), KEY).ok).toBe(false);
    expect(reasonOf(Buffer.concat([exact, Buffer.from('x')]))).toBe('oversized');
  });

  it('an AppendEntries whose entries fit the budget from appendEntriesOverheadBytes always encodes', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4000, unit: 'binary' }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 100, max: Number.MAX_SAFE_INTEGER }), (datas, big) => {
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
          body: { type: 'append_entries', term: big, from: 'node-1', to: 'node-2', prevLogIndex: big, prevLogTerm: big, entries, leaderCommit: big, seq: big },
        };
        const r = encodeEnvelope(env, KEY);
        expect(r.ok).toBe(true);
      }),
      { numRuns: 40 },
    );
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
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 2000 }), (bytes) => {
        const buf = Buffer.concat([MAGIC, Buffer.from([WIRE_VERSION]), bytes]);
        expect(reasonOf(buf)).toBe('bad_mac');
      }),
      { numRuns: 300 },
    );
  });

  it('flipping any byte of a valid datagram gives the reason for that position', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), fc.nat(), fc.integer({ min: 1, max: 255 }), (env, posSeed, xor) => {
        const buf = Buffer.from(encodeOk(env));
        const pos = posSeed % buf.length;
        buf[pos] = (buf[pos] as number) ^ xor;
        const expected: DropReason = pos < 4 ? 'bad_magic' : pos === 4 ? 'bad_version' : 'bad_mac';
        expect(reasonOf(buf)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated or extended datagrams are rejected', () => {
    fc.assert(
      fc.property(arbEnvelope(CLUSTER), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }), (env, cutSeed, extra) => {
        const buf = encodeOk(env);
        const cut = cutSeed % buf.length;
        expect(reasonOf(buf.subarray(0, cut))).toBe(cut < HEADER_BYTES ? 'too_short' : 'bad_mac');
        expect(reasonOf(Buffer.concat([buf, extra]))).toBe(buf.length + extra.length > MAX_DATAGRAM_BYTES ? 'oversized' : 'bad_mac');
      }),
      { numRuns: 200 },
    );
  });

  it('a datagram sealed with another secret is bad_mac', () => {
    expect(reasonOf(encodeOk(vote, OTHER_KEY))).toBe('bad_mac');
  });

  it('wrong version byte is bad_version even with a valid MAC', () => {
    for (const version of [0, 1, 3, 255]) {
      const buf = Buffer.from(encodeOk(vote));
      buf[4] = version;
      expect(reasonOf(buf)).toBe('bad_version');
    }
  });

  it('a valid MAC over non-JSON or invalid UTF-8 is malformed_json', () => {
    expect(reasonOf(seal(''))).toBe('malformed_json');
    expect(reasonOf(seal('{"cluster":'))).toBe('malformed_json');
    expect(reasonOf(seal(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))).toBe('malformed_json');
    expect(reasonOf(seal('['.repeat(60_000)))).toBe('malformed_json');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        expect(['malformed_json', 'invalid_message']).toContain(reasonOf(seal(Buffer.from(bytes))));
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
        if (leaf.length === 1 && leaf[0] === 'cluster' && (mutation === 'long_string' || mutation === 'wrong_type' || mutation === 'object')) {
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
    ['entry term 0', { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 0, index: 1, type: 'noop', data: '' }], leaderCommit: 0, seq: 0 }],
    ['entry index 0', { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 1, index: 0, type: 'noop', data: '' }], leaderCommit: 0, seq: 0 }],
    ['entry bad type', { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 1, index: 1, type: 'config', data: '' }], leaderCommit: 0, seq: 0 }],
    ['entries not an array', { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: {}, leaderCommit: 0, seq: 0 }],
    ['too many entries', { type: 'append_entries', term: 1, from: 'n1', to: 'n2', prevLogIndex: 0, prevLogTerm: 0, entries: Array.from({ length: 8193 }, () => 0), leaderCommit: 0, seq: 0 }],
    ['unknown kv op', { type: 'client_request', clientId: 'c', seq: 1, op: { type: 'append', key: 'k', value: 'v' } }],
    ['unknown outcome', { type: 'client_response', clientId: 'c', seq: 1, outcome: { status: 'maybe' } }],
    ['bad invalid code', { type: 'client_response', clientId: 'c', seq: 1, outcome: { status: 'invalid', code: 'too_big', message: '' } }],
    ['empty client id', { type: 'client_request', clientId: '', seq: 1, op: { type: 'get', key: 'k' } }],
    ['id too long', { type: 'status_request', requestId: 'r'.repeat(129) }],
    ['zero clock rate', { type: 'status_response', requestId: 'r', status: { id: 'n1', role: 'leader', currentTerm: 1, votedFor: null, leaderId: null, commitIndex: 0, lastApplied: 0, lastLogIndex: 0, clock: { nowMs: 1, offsetMs: 0, rate: 0 }, dropped: {}, unsafe: [] } }],
    ['bad role', { type: 'status_response', requestId: 'r', status: { id: 'n1', role: 'king', currentTerm: 1, votedFor: null, leaderId: null, commitIndex: 0, lastApplied: 0, lastLogIndex: 0, clock: { nowMs: 1, offsetMs: 0, rate: 1 }, dropped: {}, unsafe: [] } }],
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

  it('encode refuses a message the receiver would reject', () => {
    const bad = { ...vote, body: { ...vote.body, term: -1 } } as Envelope;
    const r = encodeEnvelope(bad, KEY);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe('invalid_message');
  });
});
