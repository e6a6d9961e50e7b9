/**
 * The text form of what the core says: one line per message, a few lines
 * per {@link Ready}. Compact, deterministic (the same value always gives the
 * same text, no clocks or object-key order involved) and readable by someone
 * who knows the Raft paper. The transcript tests (test/node/raft/testdata/,
 * after etcd-io/raft's `testdata/*.txt`) are written in it, and the
 * simulator's trace and the model checker's counterexamples are meant to
 * print messages with the same functions, so a finding reads like a
 * transcript.
 *
 * Notation:
 * - a log position is `index@term` (`3@2`: index 3, written in term 2);
 * - an entry is its position and `noop` or its data as a JSON string
 *   (`3@2 "put k=v"`); `describeData` may render data more readably (the
 *   simulator knows the KV command encoding, the core does not); a
 *   configuration change is `4@2 conf add_learner n4 voters=[n1,n2,n3]
 *   learners=[n4]` (the change and the configuration it leads to);
 * - a message is `from->to Kind field=value ...`, the kinds named as in
 *   etcd-io/raft (`MsgApp` is AppendEntries, §5.3; `MsgVote` RequestVote,
 *   §5.2; `MsgPreVote` the pre-vote request, thesis §9.6; `MsgSnap`
 *   InstallSnapshot, §7; `MsgTimeoutNow` the leadership-transfer trigger,
 *   thesis §3.10).
 *
 * Pure: imports only the core's types.
 */
import { assertNever } from '../util/assert.js';
import { decodeConfigEntry, describeConfChange, describeConfiguration } from './configuration.js';
import type { ProgressView, RaftStatus } from './raft.js';
import type { CoreMessage, Entry, HardState, ProposeResult, ReadRejection, ReadState, Ready, SnapshotMeta, SoftState } from './types.js';

/** Every message kind, in the order of a round trip: the names `describeMessage` prints and transcripts filter on. */
export const MESSAGE_KINDS = [
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgApp',
  'MsgAppResp',
  'MsgSnap',
  'MsgTimeoutNow',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface DescribeOptions {
  /** Renders a command entry's data; default: the data as a JSON string. */
  readonly describeData?: (data: string) => string;
}

/** The kind of a message: its `type`, with pre-vote requests and answers told apart from real votes. */
export function messageKind(message: CoreMessage): MessageKind {
  switch (message.type) {
    case 'request_vote':
      return message.preVote ? 'MsgPreVote' : 'MsgVote';
    case 'request_vote_response':
      return message.preVote ? 'MsgPreVoteResp' : 'MsgVoteResp';
    case 'append_entries':
      return 'MsgApp';
    case 'append_entries_response':
      return 'MsgAppResp';
    case 'install_snapshot':
      return 'MsgSnap';
    case 'timeout_now':
      return 'MsgTimeoutNow';
    default:
      return assertNever(message, 'raft message');
  }
}

export function isMessageKind(name: string): name is MessageKind {
  return (MESSAGE_KINDS as readonly string[]).includes(name);
}

/** A log position: `index@term`. */
export function describePosition(index: number, term: number): string {
  return `${index}@${term}`;
}

/** `3@2 "put k=v"` or `2@2 noop`. */
export function describeEntry(entry: Entry, options: DescribeOptions = {}): string {
  const position = describePosition(entry.index, entry.term);
  switch (entry.type) {
    case 'noop':
      // A noop's data is always empty; anything else is shown rather than hidden.
      return entry.data === '' ? `${position} noop` : `${position} noop ${JSON.stringify(entry.data)}`;
    case 'command':
      return `${position} ${options.describeData?.(entry.data) ?? JSON.stringify(entry.data)}`;
    case 'config': {
      const decoded = decodeConfigEntry(entry.data);
      // A malformed one is shown as it is rather than hidden.
      if (!decoded.ok) return `${position} conf ${JSON.stringify(entry.data)}`;
      return `${position} conf ${describeConfChange(decoded.data.change)} ${describeConfiguration(decoded.data.configuration)}`;
    }
    default:
      return assertNever(entry.type, 'entry type');
  }
}

/** `[1@1 noop, 2@1 "x"]` */
export function describeEntries(entries: readonly Entry[], options: DescribeOptions = {}): string {
  return `[${entries.map((entry) => describeEntry(entry, options)).join(', ')}]`;
}

/**
 * One line, e.g. `n1->n2 MsgApp term=2 prev=1@1 commit=1 seq=3 entries=[2@2 noop]`.
 * Fields: `last` the candidate's last log position (§5.4.1); `prev` the
 * AppendEntries consistency check position and `commit` the leaderCommit
 * (§5.3); `seq` the leader's per-term AppendEntries counter its answer echoes
 * (ReadIndex rounds, thesis §6.4); `match` the follower's matchIndex on
 * success; on rejection `reject` the rejected prevLogIndex and the
 * fast-backtracking hint `conflictTerm`/`conflictIndex`. A heartbeat is a
 * MsgApp without `entries`. A MsgSnap names the snapshot it streams
 * (`snapshot=10@2 voters=[...] learners=[...]`), never its bytes.
 */
export function describeMessage(message: CoreMessage, options: DescribeOptions = {}): string {
  const head = `${message.from}->${message.to} ${messageKind(message)} term=${message.term}`;
  switch (message.type) {
    case 'request_vote': {
      const transfer = message.leadershipTransfer === true ? ' transfer' : '';
      const campaign = message.campaign !== undefined ? ` campaign=${message.campaign}` : '';
      return `${head} last=${describePosition(message.lastLogIndex, message.lastLogTerm)}${transfer}${campaign}`;
    }
    case 'request_vote_response': {
      const campaign = message.campaign !== undefined ? ` campaign=${message.campaign}` : '';
      return `${head} ${message.voteGranted ? 'granted' : 'rejected'}${campaign}`;
    }
    case 'append_entries': {
      const prev = describePosition(message.prevLogIndex, message.prevLogTerm);
      const entries = message.entries.length > 0 ? ` entries=${describeEntries(message.entries, options)}` : '';
      const removed = message.removedAt !== undefined ? ` removedAt=${message.removedAt}` : '';
      return `${head} prev=${prev} commit=${message.leaderCommit} seq=${message.seq}${entries}${removed}`;
    }
    case 'append_entries_response': {
      if (message.success) {
        // A success carries no hint; one that does is shown rather than hidden.
        const odd = message.conflictTerm !== null || message.conflictIndex !== 0;
        const hint = odd ? ` conflictTerm=${message.conflictTerm ?? 'none'} conflictIndex=${message.conflictIndex}` : '';
        return `${head} match=${message.matchIndex}${hint} seq=${message.seq}`;
      }
      const hint = `conflictTerm=${message.conflictTerm ?? 'none'} conflictIndex=${message.conflictIndex}`;
      return `${head} reject=${message.matchIndex} ${hint} seq=${message.seq}`;
    }
    case 'install_snapshot':
      return `${head} seq=${message.seq} snapshot=${describeSnapshotMeta(message.snapshot)}`;
    case 'timeout_now':
      return head;
    default:
      return assertNever(message, 'raft message');
  }
}

/** `10@2 voters=[n1,n2,n3] learners=[]`: a snapshot's last included entry and its configuration (§7). */
export function describeSnapshotMeta(meta: SnapshotMeta): string {
  return `${describePosition(meta.index, meta.term)} ${describeConfiguration(meta.configuration)}`;
}

/** `term=2 vote=n1` (Figure 2's currentTerm and votedFor). */
export function describeHardState(hardState: HardState): string {
  return `term=${hardState.currentTerm} vote=${hardState.votedFor ?? 'none'}`;
}

/** `role=leader term=2 leader=n1 commit=3` */
export function describeSoftState(softState: SoftState): string {
  return `role=${softState.role} term=${softState.currentTerm} leader=${softState.leaderId ?? 'none'} commit=${softState.commitIndex}`;
}

/** `r1 index=3`: the read `r1` may be served once index 3 is applied (thesis §6.4). */
export function describeReadState(readState: ReadState): string {
  return `${readState.requestId} index=${readState.readIndex}`;
}

/** `r2 not_leader leader=n1` */
export function describeReadRejection(rejection: ReadRejection): string {
  return `${rejection.requestId} ${rejection.reason} leader=${rejection.leaderHint ?? 'none'}`;
}

/**
 * A Ready, one field per line in the order the driver must handle them
 * (persist, send, apply, serve reads; see {@link Ready}); fields with
 * nothing in them are left out, except the soft state, which every Ready
 * carries. Messages follow `Messages:`, one per line, indented by two.
 */
export function describeReadyLines(ready: Ready, options: DescribeOptions = {}): string[] {
  const lines = [`SoftState ${describeSoftState(ready.softState)}`];
  if (ready.snapshotToInstall !== null) lines.push(`SnapshotToInstall ${describeSnapshotMeta(ready.snapshotToInstall)}`);
  if (ready.hardState !== null) lines.push(`HardState ${describeHardState(ready.hardState)}`);
  if (ready.entriesToAppend.length > 0) lines.push(`Entries ${describeEntries(ready.entriesToAppend, options)}`);
  if (ready.messages.length > 0) {
    lines.push('Messages:');
    for (const message of ready.messages) lines.push(`  ${describeMessage(message, options)}`);
  }
  if (ready.snapshotsToSend.length > 0) {
    lines.push('SnapshotsToSend:');
    for (const message of ready.snapshotsToSend) lines.push(`  ${describeMessage(message, options)}`);
  }
  if (ready.committedEntries.length > 0) lines.push(`CommittedEntries ${describeEntries(ready.committedEntries, options)}`);
  if (ready.readStates.length > 0) lines.push(`ReadStates [${ready.readStates.map(describeReadState).join(', ')}]`);
  if (ready.readRejections.length > 0) lines.push(`ReadRejections [${ready.readRejections.map(describeReadRejection).join(', ')}]`);
  if (ready.snapshotRequest !== null) lines.push(`SnapshotRequest ${describeSnapshotMeta(ready.snapshotRequest)}`);
  if (ready.discardEntriesBefore !== null) lines.push(`DiscardEntriesBefore ${ready.discardEntriesBefore}`);
  for (const notice of ready.notices) lines.push(`Notice ${notice}`);
  return lines;
}

export function describeReady(ready: Ready, options: DescribeOptions = {}): string {
  return describeReadyLines(ready, options).join('\n');
}

/**
 * `role=leader term=2 vote=n1 leader=n1 commit=3 last=3@2`, and once there
 * is a snapshot or a compacted log ` snapshot=10@2 first=6` (§7).
 */
export function describeStatus(status: RaftStatus): string {
  const compaction =
    status.snapshot === null && status.firstIndex === 1
      ? ''
      : ` snapshot=${status.snapshot === null ? 'none' : describePosition(status.snapshot.index, status.snapshot.term)} first=${status.firstIndex}`;
  return (
    `role=${status.role} term=${status.currentTerm} vote=${status.votedFor ?? 'none'} leader=${status.leaderId ?? 'none'} ` +
    `commit=${status.commitIndex} last=${describePosition(status.lastLogIndex, status.lastLogTerm)}${compaction}`
  );
}

/**
 * A leader's view of one follower: `match=3 next=4 replicate inflight=0`
 * (Figure 2 matchIndex, nextIndex), with ` snapshot=10` for the snapshot on
 * its way and ` learner caught-up=true` for a learner (§4.2.1).
 */
export function describeProgress(progress: ProgressView): string {
  const snapshot = progress.state === 'snapshot' ? ` snapshot=${progress.pendingSnapshot}` : '';
  const learner = progress.learner ? ` learner caught-up=${progress.caughtUp}` : '';
  return `match=${progress.matchIndex} next=${progress.nextIndex} ${progress.state}${snapshot} inflight=${progress.inflight}${learner}`;
}

/** `ok index=3 term=2`, `not_leader leader=n1` or `proposal_dropped (why)`. */
export function describeProposeResult(result: ProposeResult): string {
  if (result.ok) return `ok index=${result.index} term=${result.term}`;
  switch (result.reason) {
    case 'not_leader':
      return `not_leader leader=${result.leaderHint ?? 'none'}`;
    case 'proposal_dropped':
      return `proposal_dropped (${result.detail})`;
    default:
      return assertNever(result, 'propose result');
  }
}
