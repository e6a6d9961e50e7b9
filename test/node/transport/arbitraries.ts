/** fast-check generators of valid messages of every type (shared by the codec and UDP tests). */
import fc from 'fast-check';
import type { ClientMessage, ClientOutcome, KvOp, KvResult, NodeStatus } from '../../../node/protocol.js';
import type { Entry, RaftMessage } from '../../../node/raft/types.js';
import type { Envelope, Stamp } from '../../../node/transport/codec.js';

export const arbId = fc.string({ minLength: 1, maxLength: 24, unit: 'binary' });
export const arbNat = fc.oneof(fc.nat(), fc.maxSafeNat());
export const arbPos = arbNat.map((n) => Math.max(1, n));
export const arbText = fc.string({ maxLength: 200, unit: 'binary' });
export const arbPayload = fc.string({ maxLength: 300, unit: 'binary' });

export const arbEntry: fc.Arbitrary<Entry> = fc.record({
  term: arbPos,
  index: arbPos,
  type: fc.constantFrom('command' as const, 'noop' as const),
  data: arbPayload,
});

export const arbRaftMessage: fc.Arbitrary<RaftMessage> = fc.oneof(
  fc.record(
    {
      type: fc.constant('request_vote' as const),
      term: arbNat,
      from: arbId,
      to: arbId,
      lastLogIndex: arbNat,
      lastLogTerm: arbNat,
      preVote: fc.boolean(),
      leadershipTransfer: fc.boolean(),
    },
    { requiredKeys: ['type', 'term', 'from', 'to', 'lastLogIndex', 'lastLogTerm', 'preVote'] },
  ),
  fc.record({
    type: fc.constant('request_vote_response' as const),
    term: arbNat,
    from: arbId,
    to: arbId,
    voteGranted: fc.boolean(),
    preVote: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('append_entries' as const),
    term: arbNat,
    from: arbId,
    to: arbId,
    prevLogIndex: arbNat,
    prevLogTerm: arbNat,
    entries: fc.array(arbEntry, { maxLength: 5 }),
    leaderCommit: arbNat,
    seq: arbNat,
  }),
  fc.record({
    type: fc.constant('append_entries_response' as const),
    term: arbNat,
    from: arbId,
    to: arbId,
    success: fc.boolean(),
    matchIndex: arbNat,
    conflictTerm: fc.option(arbNat, { nil: null }),
    conflictIndex: arbNat,
    seq: arbNat,
  }),
  fc.record({ type: fc.constant('timeout_now' as const), term: arbNat, from: arbId, to: arbId }),
);

export const arbKvOp: fc.Arbitrary<KvOp> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), key: arbPayload }),
  fc.record({ type: fc.constant('put' as const), key: arbPayload, value: arbPayload }),
  fc.record({ type: fc.constant('delete' as const), key: arbPayload }),
  fc.record({ type: fc.constant('cas' as const), key: arbPayload, expected: fc.option(arbPayload, { nil: null }), value: arbPayload }),
);

export const arbKvResult: fc.Arbitrary<KvResult> = fc.oneof(
  fc.record({ status: fc.constant('ok' as const), value: fc.option(arbPayload, { nil: null }) }),
  fc.record({ status: fc.constant('cas_mismatch' as const), actual: fc.option(arbPayload, { nil: null }) }),
  fc.record({
    status: fc.constant('invalid' as const),
    code: fc.constantFrom('key_too_large' as const, 'value_too_large' as const, 'malformed' as const),
    message: arbText,
  }),
);

export const arbOutcome: fc.Arbitrary<ClientOutcome> = fc.oneof(
  arbKvResult,
  fc.record({ status: fc.constant('not_leader' as const), leaderHint: fc.option(arbId, { nil: null }) }),
  fc.record({ status: fc.constant('unavailable' as const), reason: arbText }),
  fc.record({
    status: fc.constant('rejected' as const),
    code: fc.constantFrom('session_conflict' as const, 'op_mismatch' as const, 'stale_seq' as const),
    message: arbText,
  }),
);

const arbFinite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));

export const arbNodeStatus: fc.Arbitrary<NodeStatus> = fc.record({
  id: arbId,
  role: fc.constantFrom('follower' as const, 'pre_candidate' as const, 'candidate' as const, 'leader' as const),
  currentTerm: arbNat,
  votedFor: fc.option(arbId, { nil: null }),
  leaderId: fc.option(arbId, { nil: null }),
  commitIndex: arbNat,
  lastApplied: arbNat,
  lastLogIndex: arbNat,
  clock: fc.record({ nowMs: arbFinite, offsetMs: arbFinite, rate: fc.double({ min: 0.01, max: 100, noNaN: true }) }),
  // No "__proto__" key: an object literal would not round-trip it as an own property.
  dropped: fc.dictionary(
    arbId.filter((k) => k !== '__proto__'),
    arbNat,
    { maxKeys: 8, noNullPrototype: true },
  ),
  unsafe: fc.array(arbId, { maxLength: 6 }),
  snapshots: fc.record({
    firstIndex: arbNat,
    latest: fc.option(fc.record({ index: arbNat, term: arbNat, bytes: arbNat }), { nil: null }),
    taken: arbNat,
    installed: arbNat,
  }),
  uptimeMs: arbNat,
  runQueueWaitMs: arbNat,
});

/** `ClientRequest.awaitLeader` (node/held-requests.ts): a node id and 1-1000 ms. */
export const arbAwaitLeader = fc.record({ otherThan: arbId, maxMs: fc.integer({ min: 1, max: 1000 }) });

/** A client request, with `awaitLeader` or without it. */
export const arbClientRequest = fc.record(
  {
    type: fc.constant('client_request' as const),
    clientId: arbId,
    instance: arbNat,
    seq: arbNat,
    op: arbKvOp,
    awaitLeader: arbAwaitLeader,
    session: fc.constantFrom('open' as const, 'existing' as const),
  },
  { requiredKeys: ['type', 'clientId', 'instance', 'seq', 'op'] },
);

export const arbClientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  arbClientRequest,
  fc.record({ type: fc.constant('client_response' as const), clientId: arbId, seq: arbNat, outcome: arbOutcome }),
  fc.record({ type: fc.constant('status_request' as const), requestId: arbId }),
  fc.record({ type: fc.constant('status_response' as const), requestId: arbId, status: arbNodeStatus }),
  fc.record({ type: fc.constant('retry' as const), token: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) }),
);

export const arbToken = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

/** A valid envelope: for Raft messages the envelope's from/to agree with the body's; client envelopes may carry a token. */
export const arbEnvelope = (cluster: string): fc.Arbitrary<Envelope> =>
  fc.oneof(
    arbRaftMessage.map((body): Envelope => ({ cluster, from: body.from, to: body.to, body })),
    fc.record({ from: arbId, to: arbId, body: arbClientMessage }).map((r): Envelope => ({ cluster, ...r })),
    fc.record({ from: arbId, to: arbId, body: arbClientMessage, token: arbToken }).map((r): Envelope => ({ cluster, ...r })),
    fc.record({ from: arbId, to: arbId }).map((r): Envelope => ({ cluster, ...r, body: { type: 'hello' } })),
  );

/** A valid stamp (what a sender puts in the header besides the envelope). */
export const arbStamp: fc.Arbitrary<Stamp> = fc.record({
  senderIncarnation: arbNat,
  receiverIncarnation: arbNat,
  counter: arbPos,
  sentAtMs: arbNat,
});
