/**
 * `npm run bench -- codec`: the cost of one datagram, encoded and decoded,
 * for the peer messages that make up most of the traffic, in the binary form
 * nodes send (since wire version 2) and in the JSON form (what version 1 sent
 * for everything, still accepted), measured side by side in one run. Both
 * include the header and the HMAC (under the sender's peer key, chosen by the
 * header as a receiver chooses it), so the ratio is what a node or the
 * simulator saves per datagram.
 */
import { parseArgs } from 'node:util';
import type { RaftMessage } from '../node/raft/types.js';
import { decodeEnvelope, encodeEnvelope, encodeJson, type EncodeResult, type Envelope, type Stamp } from '../node/transport/codec.js';
import { KeyRing } from '../node/transport/keys.js';

const cluster = 'bench';
const keys = KeyRing.forNode('codec-bench-peer-secret-0123456789', 'codec-bench-client-secret-0123456789', ['n1', 'n2', 'n3']);
const stamp: Stamp = {
  senderIncarnation: 1_700_000_000_000,
  receiverIncarnation: 1_700_000_000_001,
  counter: 12_345,
  sentAtMs: 1_700_000_123_456,
};

const messages: Record<string, RaftMessage> = {
  heartbeat: {
    type: 'append_entries',
    term: 7,
    from: 'n1',
    to: 'n2',
    prevLogIndex: 12_345,
    prevLogTerm: 7,
    entries: [],
    leaderCommit: 12_340,
    seq: 4567,
  },
  'heartbeat answer': {
    type: 'append_entries_response',
    term: 7,
    from: 'n2',
    to: 'n1',
    success: true,
    matchIndex: 12_345,
    conflictTerm: null,
    conflictIndex: 0,
    seq: 4567,
  },
  'append, 8 entries': {
    type: 'append_entries',
    term: 7,
    from: 'n1',
    to: 'n2',
    prevLogIndex: 12_345,
    prevLogTerm: 7,
    leaderCommit: 12_340,
    seq: 4568,
    entries: Array.from({ length: 8 }, (_, i) => ({
      term: 7,
      index: 12_346 + i,
      type: 'command' as const,
      data: JSON.stringify({ clientId: `c${i}`, seq: 100 + i, op: { type: 'put', key: `k${i % 3}`, value: String(1000 + i) } }),
    })),
  },
  'vote request': { type: 'request_vote', term: 8, from: 'n3', to: 'n1', lastLogIndex: 12_353, lastLogTerm: 7, preVote: false },
};

function ok(r: EncodeResult): Buffer {
  if (!r.ok) throw new Error(`encode failed: ${r.detail}`);
  return r.datagram;
}

/** Microseconds per encode+decode round, best of `trials` timed batches. */
function measure(
  env: Envelope,
  encode: (e: Envelope, k: Buffer, s: Stamp) => EncodeResult,
  rounds: number,
  trials: number,
): { us: number; bytes: number } {
  const key = keys.keyFor('peer', env.from);
  if (key === null) throw new Error(`no peer key for ${env.from}`);
  const bytes = ok(encode(env, key, stamp)).length;
  let best = Number.POSITIVE_INFINITY;
  for (let t = 0; t < trials; t++) {
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const decoded = decodeEnvelope(ok(encode(env, key, stamp)), keys, cluster);
      if (!decoded.ok) throw new Error(`decode failed: ${decoded.detail}`);
    }
    best = Math.min(best, ((performance.now() - started) * 1000) / rounds);
  }
  return { us: best, bytes };
}

export async function runCodecBench(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  if (positionals.length > 1) throw new Error(`usage: npm run bench -- codec [ROUNDS]`);
  const rounds = Number(positionals[0] ?? 100_000);
  if (!Number.isInteger(rounds) || rounds < 1000) throw new Error(`rounds must be an integer >= 1000, got ${positionals[0]}`);
  process.stdout.write(`codec: encode + decode one datagram (HMAC included), best of 5 x ${rounds} rounds\n\n`);
  process.stdout.write('| message | binary µs | JSON µs | JSON / binary | binary bytes | JSON bytes |\n|---|---:|---:|---:|---:|---:|\n');
  for (const [name, body] of Object.entries(messages)) {
    const env: Envelope = { cluster, from: body.from, to: body.to, body };
    measure(env, encodeEnvelope, rounds / 10, 1); // warm both paths
    measure(env, encodeJson, rounds / 10, 1);
    const binary = measure(env, encodeEnvelope, rounds, 5);
    const json = measure(env, encodeJson, rounds, 5);
    process.stdout.write(
      `| ${name} | ${binary.us.toFixed(2)} | ${json.us.toFixed(2)} | ${(json.us / binary.us).toFixed(2)}x | ${binary.bytes} | ${json.bytes} |\n`,
    );
  }
  await Promise.resolve();
}
