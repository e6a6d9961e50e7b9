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
      node.step(voteResponse(request.to, node.id, request.term, true, request.preVote));
    }
  }
  if (node.status().role !== 'leader') throw new Error(`makeLeader: ${node.id} is ${node.status().role}`);
  return node.ready().messages;
}

export function appendEntries(
  from: NodeId,
  to: NodeId,
  term: number,
  prevLogIndex: number,
  prevLogTerm: number,
  entries: readonly Entry[],
  leaderCommit: number,
  seq = 1,
): AppendEntries {
  return { type: 'append_entries', term, from, to, prevLogIndex, prevLogTerm, entries, leaderCommit, seq };
}

export function appendResponse(
  from: NodeId,
  to: NodeId,
  term: number,
  success: boolean,
  matchIndex: number,
  seq = 1,
  conflictTerm: number | null = null,
  conflictIndex = 0,
): AppendEntriesResponse {
  return { type: 'append_entries_response', term, from, to, success, matchIndex, conflictTerm, conflictIndex, seq };
}

export function requestVote(from: NodeId, to: NodeId, term: number, lastLogIndex: number, lastLogTerm: number, preVote = false): RequestVote {
  return { type: 'request_vote', term, from, to, lastLogIndex, lastLogTerm, preVote };
}

export function voteResponse(from: NodeId, to: NodeId, term: number, voteGranted: boolean, preVote = false): RequestVoteResponse {
  return { type: 'request_vote_response', term, from, to, voteGranted, preVote };
}

export function entry(term: number, index: number, data = `t${term}i${index}`): Entry {
  return { term, index, type: 'command', data };
}
