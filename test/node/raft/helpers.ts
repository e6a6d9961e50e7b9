/**
 * Builders for single-core tests ("init, test and check", etcd-io/raft
 * raft_paper_test.go): a core from a given log and term, and the messages a
 * test feeds it.
 */
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  Entry,
  NodeId,
  RaftMessage,
  RequestVote,
  RequestVoteResponse,
} from '../../../node/raft/types.js';
import { ids, makeConfig, type ConfigOverrides } from './network.js';

export interface NodeOptions {
  id?: NodeId;
  peers?: readonly NodeId[];
  term?: number;
  votedFor?: NodeId | null;
  entries?: readonly Entry[];
  overrides?: ConfigOverrides;
  seed?: number;
}

export function newNode(options: NodeOptions = {}): RaftNode {
  const id = options.id ?? 'n1';
  const peers = options.peers ?? ids(3);
  return new RaftNode(
    makeConfig(id, peers, options.overrides ?? {}),
    { hardState: { currentTerm: options.term ?? 0, votedFor: options.votedFor ?? null }, entries: options.entries ?? [] },
    createPrng(options.seed ?? 1),
  );
}

/** Drain the node's Ready and return its messages. */
export function takeMessages(node: RaftNode): RaftMessage[] {
  return [...node.ready().messages];
}

export function ofType<T extends RaftMessage['type']>(messages: readonly RaftMessage[], type: T): Extract<RaftMessage, { type: T }>[] {
  return messages.filter((m): m is Extract<RaftMessage, { type: T }> => m.type === type);
}

/** Make `node` leader by campaigning and granting it every (pre-)vote; drains the Ready and returns its messages (the noop's AppendEntries). */
export function makeLeader(node: RaftNode): readonly RaftMessage[] {
  node.campaign();
  for (let round = 0; round < 2 && node.status().role !== 'leader'; round++) {
    for (const request of ofType(node.ready().messages, 'request_vote')) {
      const role = node.status().role;
      if (role === 'leader' || (request.preVote && role !== 'pre_candidate')) break;
      node.step(voteResponse({ from: request.to, to: node.id, term: request.term, voteGranted: true, preVote: request.preVote }));
    }
  }
  if (node.status().role !== 'leader') throw new Error(`makeLeader: ${node.id} is ${node.status().role}`);
  return node.ready().messages;
}

/** An AppendEntries (§5.3) as a leader would send it; `seq` defaults to 1. */
export function appendEntries(fields: {
  from: NodeId;
  to: NodeId;
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: readonly Entry[];
  leaderCommit: number;
  seq?: number;
}): AppendEntries {
  const { from, to, term, prevLogIndex, prevLogTerm, entries, leaderCommit, seq = 1 } = fields;
  return { type: 'append_entries', term, from, to, prevLogIndex, prevLogTerm, entries, leaderCommit, seq };
}

/** An answer to AppendEntries; `seq` defaults to 1, the rejection hint to (null, 0). */
export function appendResponse(fields: {
  from: NodeId;
  to: NodeId;
  term: number;
  success: boolean;
  matchIndex: number;
  seq?: number;
  conflictTerm?: number | null;
  conflictIndex?: number;
}): AppendEntriesResponse {
  const { from, to, term, success, matchIndex, seq = 1, conflictTerm = null, conflictIndex = 0 } = fields;
  return { type: 'append_entries_response', term, from, to, success, matchIndex, conflictTerm, conflictIndex, seq };
}

/** A RequestVote (§5.2), or a pre-vote request (thesis §9.6) with `preVote: true`. */
export function requestVote(fields: {
  from: NodeId;
  to: NodeId;
  term: number;
  lastLogIndex: number;
  lastLogTerm: number;
  preVote?: boolean;
  campaign?: number;
}): RequestVote {
  const { from, to, term, lastLogIndex, lastLogTerm, preVote = false, campaign } = fields;
  return { type: 'request_vote', term, from, to, lastLogIndex, lastLogTerm, preVote, ...(campaign !== undefined ? { campaign } : {}) };
}

export function voteResponse(fields: {
  from: NodeId;
  to: NodeId;
  term: number;
  voteGranted: boolean;
  preVote?: boolean;
}): RequestVoteResponse {
  const { from, to, term, voteGranted, preVote = false } = fields;
  return { type: 'request_vote_response', term, from, to, voteGranted, preVote };
}

/** A command entry; `data` defaults to "t<term>i<index>". */
export function entry(fields: { term: number; index: number; data?: string }): Entry {
  const { term, index, data = `t${term}i${index}` } = fields;
  return { term, index, type: 'command', data };
}
