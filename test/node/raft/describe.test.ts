/**
 * The text form of node/raft/describe.ts, pinned: the transcripts in
 * testdata/ and (later) the simulator's trace and the model checker's
 * counterexamples depend on it, so a change must be deliberate.
 */
import { describe, expect, it } from 'vitest';
import {
  describeEntry,
  describeMessage,
  describeProgress,
  describeProposeResult,
  describeReady,
  describeStatus,
  isMessageKind,
  MESSAGE_KINDS,
  messageKind,
} from '../../../node/raft/describe.js';
import type { RaftStatus } from '../../../node/raft/raft.js';
import type { CoreMessage, Entry, Ready, SnapshotMeta } from '../../../node/raft/types.js';
import { encodeConfigEntry } from '../../../node/raft/configuration.js';
import { appendEntries, appendResponse, entry, requestVote, voteResponse } from './helpers.js';

const noop: Entry = { term: 2, index: 2, type: 'noop', data: '' };
const snapshotMeta: SnapshotMeta = { index: 10, term: 2, configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } };

describe('describeMessage', () => {
  it.each<[string, CoreMessage]>([
    ['n1->n2 MsgVote term=2 last=3@1', requestVote({ from: 'n1', to: 'n2', term: 2, lastLogIndex: 3, lastLogTerm: 1 })],
    ['n1->n2 MsgPreVote term=2 last=0@0', requestVote({ from: 'n1', to: 'n2', term: 2, lastLogIndex: 0, lastLogTerm: 0, preVote: true })],
    [
      'n3->n1 MsgVote term=4 last=5@3 transfer',
      { ...requestVote({ from: 'n3', to: 'n1', term: 4, lastLogIndex: 5, lastLogTerm: 3 }), leadershipTransfer: true },
    ],
    ['n2->n1 MsgVoteResp term=2 granted', voteResponse({ from: 'n2', to: 'n1', term: 2, voteGranted: true })],
    ['n2->n1 MsgPreVoteResp term=1 rejected', voteResponse({ from: 'n2', to: 'n1', term: 1, voteGranted: false, preVote: true })],
    [
      'n1->n2 MsgApp term=2 prev=1@1 commit=1 seq=3 entries=[2@2 noop, 3@2 "put k=v"]',
      appendEntries({
        from: 'n1',
        to: 'n2',
        term: 2,
        prevLogIndex: 1,
        prevLogTerm: 1,
        entries: [noop, entry({ term: 2, index: 3, data: 'put k=v' })],
        leaderCommit: 1,
        seq: 3,
      }),
    ],
    [
      'n1->n2 MsgApp term=2 prev=3@2 commit=3 seq=4',
      appendEntries({ from: 'n1', to: 'n2', term: 2, prevLogIndex: 3, prevLogTerm: 2, entries: [], leaderCommit: 3, seq: 4 }),
    ],
    ['n2->n1 MsgAppResp term=2 match=3 seq=4', appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 3, seq: 4 })],
    [
      'n2->n1 MsgAppResp term=2 reject=5 conflictTerm=1 conflictIndex=2 seq=6',
      appendResponse({ from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 5, seq: 6, conflictTerm: 1, conflictIndex: 2 }),
    ],
    [
      'n2->n1 MsgAppResp term=2 reject=5 conflictTerm=none conflictIndex=4 seq=6',
      appendResponse({ from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 5, seq: 6, conflictTerm: null, conflictIndex: 4 }),
    ],
    ['n1->n3 MsgTimeoutNow term=2', { type: 'timeout_now', term: 2, from: 'n1', to: 'n3' }],
    [
      'n1->n4 MsgSnap term=3 seq=7 snapshot=10@2 voters=[n1,n2,n3] learners=[n4]',
      { type: 'install_snapshot', term: 3, from: 'n1', to: 'n4', seq: 7, snapshot: snapshotMeta },
    ],
  ])('%s', (text, message) => {
    expect(describeMessage(message)).toBe(text);
    expect(isMessageKind(messageKind(message))).toBe(true);
  });

  it('names every kind it prints', () => {
    expect(MESSAGE_KINDS).toEqual([
      'MsgPreVote',
      'MsgPreVoteResp',
      'MsgVote',
      'MsgVoteResp',
      'MsgApp',
      'MsgAppResp',
      'MsgSnap',
      'MsgTimeoutNow',
    ]);
    expect(isMessageKind('MsgHeartbeat')).toBe(false);
  });

  it('quotes data as JSON unless the caller renders it', () => {
    const quoted = entry({ term: 1, index: 7, data: 'say "hi"\n' });
    expect(describeEntry(quoted)).toBe('7@1 "say \\"hi\\"\\n"');
    expect(describeEntry(quoted, { describeData: (data) => `<${data.length} bytes>` })).toBe('7@1 <9 bytes>');
    expect(describeEntry(noop)).toBe('2@2 noop');
  });

  it('shows a configuration entry as its change and the configuration it leads to', () => {
    const data = encodeConfigEntry({
      change: { type: 'add_learner', node: 'n4' },
      configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    });
    expect(describeEntry({ term: 2, index: 5, type: 'config', data })).toBe('5@2 conf add_learner n4 voters=[n1,n2,n3] learners=[n4]');
    // A malformed one is shown as it is.
    expect(describeEntry({ term: 2, index: 5, type: 'config', data: 'junk' })).toBe('5@2 conf "junk"');
  });
});

describe('describeReady', () => {
  it('prints every field in the order of the Ready contract, and leaves out empty ones', () => {
    const ready: Ready = {
      softState: { role: 'leader', leaderId: 'n1', currentTerm: 2, commitIndex: 1 },
      hardState: { currentTerm: 2, votedFor: 'n1' },
      entriesToAppend: [noop],
      messages: [
        appendEntries({ from: 'n1', to: 'n2', term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop], leaderCommit: 1, seq: 1 }),
      ],
      committedEntries: [entry({ term: 1, index: 1, data: 'x' })],
      readStates: [{ requestId: 'r1', readIndex: 1 }],
      readRejections: [{ requestId: 'r2', reason: 'not_leader', leaderHint: null }],
      snapshotToInstall: snapshotMeta,
      snapshotsToSend: [{ type: 'install_snapshot', term: 2, from: 'n1', to: 'n4', seq: 2, snapshot: snapshotMeta }],
      snapshotRequest: { ...snapshotMeta, index: 11 },
      discardEntriesBefore: 6,
      notices: ['follower n3 lost acknowledged entries'],
    };
    expect(describeReady(ready).split('\n')).toEqual([
      'SoftState role=leader term=2 leader=n1 commit=1',
      'SnapshotToInstall 10@2 voters=[n1,n2,n3] learners=[n4]',
      'HardState term=2 vote=n1',
      'Entries [2@2 noop]',
      'Messages:',
      '  n1->n2 MsgApp term=2 prev=1@1 commit=1 seq=1 entries=[2@2 noop]',
      'SnapshotsToSend:',
      '  n1->n4 MsgSnap term=2 seq=2 snapshot=10@2 voters=[n1,n2,n3] learners=[n4]',
      'CommittedEntries [1@1 "x"]',
      'ReadStates [r1 index=1]',
      'ReadRejections [r2 not_leader leader=none]',
      'SnapshotRequest 11@2 voters=[n1,n2,n3] learners=[n4]',
      'DiscardEntriesBefore 6',
      'Notice follower n3 lost acknowledged entries',
    ]);
    const nothing = {
      hardState: null,
      entriesToAppend: [],
      messages: [],
      committedEntries: [],
      readStates: [],
      readRejections: [],
      notices: [],
      snapshotToInstall: null,
      snapshotsToSend: [],
      snapshotRequest: null,
      discardEntriesBefore: null,
    };
    const quiet: Ready = { ...ready, ...nothing };
    expect(describeReady(quiet)).toBe('SoftState role=leader term=2 leader=n1 commit=1');
  });
});

describe('status, progress and proposals', () => {
  it('are one line each', () => {
    const status: RaftStatus = {
      role: 'follower',
      leaderId: null,
      currentTerm: 3,
      commitIndex: 2,
      lastLogIndex: 4,
      lastLogTerm: 3,
      votedFor: 'n2',
      firstIndex: 1,
      snapshot: null,
      configuration: { voters: ['n1', 'n2', 'n3'], learners: [] },
    };
    expect(describeStatus(status)).toBe('role=follower term=3 vote=n2 leader=none commit=2 last=4@3');
    expect(describeStatus({ ...status, commitIndex: 12, lastLogIndex: 14, firstIndex: 6, snapshot: snapshotMeta })).toBe(
      'role=follower term=3 vote=n2 leader=none commit=12 last=14@3 snapshot=10@2 first=6',
    );
    const progress = {
      matchIndex: 3,
      nextIndex: 4,
      state: 'replicate',
      inflight: 1,
      pendingSnapshot: 0,
      learner: false,
      caughtUp: false,
    } as const;
    expect(describeProgress(progress)).toBe('match=3 next=4 replicate inflight=1');
    expect(describeProgress({ ...progress, state: 'snapshot', pendingSnapshot: 10, learner: true })).toBe(
      'match=3 next=4 snapshot snapshot=10 inflight=1 learner caught-up=false',
    );
    expect(describeProposeResult({ ok: true, index: 3, term: 2 })).toBe('ok index=3 term=2');
    expect(describeProposeResult({ ok: false, reason: 'not_leader', leaderHint: 'n1' })).toBe('not_leader leader=n1');
    expect(describeProposeResult({ ok: false, reason: 'proposal_dropped', detail: 'full', transient: true })).toBe(
      'proposal_dropped (full)',
    );
  });
});
