/**
 * The votes-only fault (NetworkControl.onlyVotesTo, used by
 * kinds/change-race.ts): the relay lets only RequestVote and its answers
 * into one node, on every link, so it elects but never hears a leader.
 * Real datagrams (the codec's binary forms) through a real relay.
 */
import { describe, expect, test } from 'vitest';
import { UdpRelay } from '../../../harness/net/relay.js';
import type { RaftMessage } from '../../../node/raft/types.js';
import { encodeEnvelope } from '../../../node/transport/codec.js';
import { peekIsVote } from '../../../node/transport/peek.js';
import { derivePeerKey } from '../../../node/transport/keys.js';
import { waitFor } from '../wait.js';
import { udpEndpoints } from './udp-endpoints.js';

const secret = 'a-test-secret-of-24-chars';
let counter = 0;

function datagram(body: RaftMessage): Buffer {
  const r = encodeEnvelope({ cluster: 'rift-test', from: body.from, to: body.to, body }, derivePeerKey(secret, body.from), {
    senderIncarnation: 1,
    receiverIncarnation: 1,
    counter: ++counter,
    sentAtMs: 1,
  });
  if (!r.ok) throw new Error(r.detail);
  return Buffer.from(r.datagram);
}

const vote = (from: string, to: string, preVote: boolean): Buffer =>
  datagram({ type: 'request_vote', term: 4, from, to, lastLogIndex: 9, lastLogTerm: 3, preVote });
const voteAnswer = (from: string, to: string): Buffer =>
  datagram({ type: 'request_vote_response', term: 4, from, to, voteGranted: true, preVote: false });
const append = (from: string, to: string): Buffer =>
  datagram({ type: 'append_entries', term: 4, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 });
const appendAnswer = (from: string, to: string): Buffer =>
  datagram({
    type: 'append_entries_response',
    term: 4,
    from,
    to,
    success: true,
    matchIndex: 0,
    conflictIndex: 0,
    conflictTerm: null,
    seq: 1,
  });
const timeoutNow = (from: string, to: string): Buffer => datagram({ type: 'timeout_now', term: 4, from, to });

describe('peekIsVote', () => {
  test('RequestVote (pre-vote or not) and its answer are votes; AppendEntries, its answer, TimeoutNow and junk are not', () => {
    expect(peekIsVote(vote('n1', 'n2', true))).toBe(true);
    expect(peekIsVote(vote('n1', 'n2', false))).toBe(true);
    expect(peekIsVote(voteAnswer('n2', 'n1'))).toBe(true);
    expect(peekIsVote(append('n1', 'n2'))).toBe(false);
    expect(peekIsVote(appendAnswer('n2', 'n1'))).toBe(false);
    expect(peekIsVote(timeoutNow('n1', 'n2'))).toBe(false);
    expect(peekIsVote(Buffer.from('{"type":"request_vote"}'))).toBe(false); // no envelope: unreadable, so not a vote
    expect(peekIsVote(Buffer.alloc(0))).toBe(false);
  });
});

const { endpoint, keep } = udpEndpoints();

describe('UdpRelay.onlyVotesTo', () => {
  test('into that node only votes pass, on every link; from it everything passes; null ends it', async () => {
    const n1 = await endpoint();
    const n2 = await endpoint();
    const n3 = await endpoint();
    const eps = { n1, n2, n3 };
    const relay = await UdpRelay.start({ nodes: Object.entries(eps).map(([id, e]) => ({ id, host: '127.0.0.1', port: e.port })), seed: 7 });
    keep(relay);
    const send = (from: keyof typeof eps, to: keyof typeof eps, msg: Buffer): void => {
      const a = relay.linkAddress(from, to);
      eps[from].socket.send(msg, a.port, a.host);
    };
    await relay.onlyVotesTo('n2');
    send('n1', 'n2', append('n1', 'n2'));
    send('n3', 'n2', append('n3', 'n2'));
    send('n1', 'n2', timeoutNow('n1', 'n2'));
    send('n3', 'n2', appendAnswer('n3', 'n2'));
    send('n1', 'n2', vote('n1', 'n2', true));
    send('n3', 'n2', voteAnswer('n3', 'n2'));
    send('n2', 'n1', append('n2', 'n1')); // out of n2: not filtered
    send('n1', 'n3', append('n1', 'n3')); // not n2's link
    await waitFor(() => n2.got.length === 2 && n1.got.length === 1 && n3.got.length === 1, 2000, 'the votes and the other links delivered');
    await waitFor(() => relay.stats().blocked === 4, 2000, 'four non-votes into n2 blocked');
    expect(n2.got.map((m) => peekIsVote(m))).toEqual([true, true]);
    expect(relay.linkStats()['n1>n2']!.blocked).toBe(2);
    expect(relay.linkStats()['n3>n2']!.blocked).toBe(2);
    await relay.onlyVotesTo(null);
    send('n1', 'n2', append('n1', 'n2'));
    await waitFor(() => n2.got.length === 3, 2000, 'n2 hears AppendEntries again');
    await expect(relay.onlyVotesTo('n9')).rejects.toThrow(/unknown node n9/);
  });
});
