/**
 * Snapshots and log compaction in the model checker (`--snapshots N`, issue
 * 18): a node saves the snapshot its core asked for (Ready step 5), the core
 * compacts, a leader sends InstallSnapshot (one message carrying the
 * snapshot's bytes) to a follower that needs what it compacted, and a crash
 * keeps the durable snapshot. The correct core exhausts a small space with
 * snapshots saved and installed and no violation; `--unsafe
 * snapshot-past-commit` is found by BFS; `--unsafe keep-log-on-install`
 * breaks a path the model allows (three leaders with a minority term in
 * between, and a snapshot whose last entry is of an older term), the same
 * path without the flag breaks nothing, and the simulator's replay agrees
 * both ways.
 */
import { describe, expect, it } from 'vitest';
import { lanes } from '../../mc/hash.js';
import { LogTable } from '../../mc/intern.js';
import { Model, type World } from '../../mc/model.js';
import type { Entry } from '../../node/raft/types.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { parseTrace } from '../../sim/stepped/trace.js';
import { check, flags, LEADER_PUT_READ, optionsOf, propertiesWithout, snapshotTransitions, traceOf, walkEvents } from './helpers.js';

function fp(model: Model, w: World): string {
  model.fingerprint(w);
  return `${lanes[0]}:${lanes[1]}`;
}

describe('logs with a compacted prefix (LogTable)', () => {
  const e = (index: number, term: number, data = ''): Entry => ({ index, term, type: data === '' ? 'noop' : 'command', data });

  it('Log Matching reads a compaction point as the entry it stands for', () => {
    const logs = new LogTable();
    const full = logs.intern([e(1, 1), e(2, 1, 'a'), e(3, 1, 'b'), e(4, 3)]);
    // Compacted through 3@1, then a minority term's 4@2: agrees with `full` wherever both show a term.
    const compacted = logs.intern([e(4, 2, 'x')], 3, 1);
    expect(logs.termAt(compacted, 3)).toBe(1);
    expect(logs.termAt(compacted, 2)).toBeNull();
    expect(logs.entryAt(compacted, 4)?.term).toBe(2);
    expect(logs.lastIndex(compacted)).toBe(4);
    expect(logs.logMatchingViolation(full, compacted)).toBeNull();
    // The same entries at another compaction point are another log.
    expect(logs.intern([e(4, 2, 'x')], 2, 1)).not.toBe(compacted);
    // Both hold 4@2, but the other log has 3@2 where the snapshot ends with 3@1: Log Matching fails at 3.
    const other = logs.intern([e(1, 1), e(2, 1, 'a'), e(3, 2, 'y'), e(4, 2, 'x')]);
    expect(logs.logMatchingViolation(compacted, other)).toMatch(/index 4, but differ at index 3/);
    // Past both compaction points whole entries are compared.
    const sameTermOtherData = logs.intern([e(4, 2, 'z')], 3, 1);
    const longer = logs.intern([e(1, 1), e(2, 1, 'a'), e(3, 1, 'b'), e(4, 2, 'x'), e(5, 2, 'w')]);
    expect(logs.logMatchingViolation(compacted, longer)).toBeNull();
    expect(logs.logMatchingViolation(sameTermOtherData, longer)).toMatch(/differ at index 4/);
  });
});

describe('the correct core with snapshots', () => {
  it('exhausts a put, a read and one lost message with snapshots saved and installed, and no violation', async () => {
    // A lost AppendEntries leaves a follower behind the leader's compaction point; the read's heartbeat round
    // finds it and the leader sends its snapshot (70,871 states, ~2.5 cpu-s).
    const r = await check(flags({ ...LEADER_PUT_READ, drops: 1, 'fault-budgets': 'cluster', retries: 0, snapshots: 2 }));
    expect(r.result.finding).toBeNull();
    expect(r.result.stopped).toBe('exhausted');
    expect(r.result.stats.terminal).toBeGreaterThan(0);
    const { saves, installs } = snapshotTransitions(r.lines);
    expect(saves).toBeGreaterThan(0);
    expect(installs).toBeGreaterThan(0);
  });

  it('a restart keeps the durable snapshot: the core starts from it, the state machine from its bytes; it is part of the state', () => {
    const model = new Model(
      optionsOf(flags({ start: 'leader', writes: 0, reads: 0, crashes: 1, drops: 0, dups: 0, timeouts: 0, snapshots: 1 })),
    );
    // After the prelude n1 has applied its noop and is saving the snapshot its core asked for at index 1.
    const saved = walkEvents(model, ['snapshot n1', 'crash n1', 'restart n1']);
    expect(saved.violation).toBeNull();
    const node = model.node(saved.world, 0).state;
    expect(node.durable.snapshot?.meta).toMatchObject({ index: 1, term: 1 });
    expect(node.running?.core.snapshot).toMatchObject({ index: 1, term: 1 });
    expect(node.running?.core.commitIndex).toBe(1);
    expect(node.running?.kv.lastApplied).toBe(1);
    // Without the save the restarted node has no snapshot and an empty state machine: a different state.
    const unsaved = walkEvents(model, ['crash n1', 'restart n1']);
    expect(model.node(unsaved.world, 0).state.running?.core.snapshot).toBeNull();
    expect(model.node(unsaved.world, 0).state.running?.kv.lastApplied).toBe(0);
    expect(fp(model, saved.world)).not.toBe(fp(model, unsaved.world));
  });
});

/** n1 leads term 1 (prelude); one put, no fault, no timer: a snapshot every 2 applied entries. */
const PAST_COMMIT = { start: 'leader', writes: 1, reads: 0, crashes: 0, drops: 0, dups: 0, timeouts: 0, retries: 0, snapshots: 2 } as const;

describe('--unsafe snapshot-past-commit', () => {
  it('BFS: the leader snapshots (and applies) its uncommitted put at once; the replay confirms', async () => {
    const r = await check(['--unsafe', 'snapshot-past-commit', '--snapshot-every', '2', ...flags(PAST_COMMIT)]);
    expect(r.result.stopped).toBe('violation');
    expect(r.result.finding?.violation.property).toBe('snapshot-committed');
    expect(r.replayConfirmed).toBe(true);
    console.log(`  snapshot-past-commit: snapshot-committed after ${r.counterexampleEvents} events`);
  });

  it('BFS on Figure 3 alone: a later leader overwrites what the snapshot applied (state machine safety); the replay confirms', async () => {
    const r = await check([
      '--unsafe',
      'snapshot-past-commit',
      '--snapshot-every',
      '2',
      ...FIGURE_3,
      ...flags({ ...PAST_COMMIT, reads: 1, timeouts: 1, snapshots: 1 }),
    ]);
    expect(r.result.stopped).toBe('violation');
    expect(r.result.finding?.violation.property).toBe('state-machine-safety');
    expect(r.replayConfirmed).toBe(true);
  });

  it('without the flag the same bounds are exhausted with no violation', async () => {
    const r = await check(['--snapshot-every', '2', ...flags(PAST_COMMIT)]);
    expect(r.result.finding).toBeNull();
    expect(r.result.stopped).toBe('exhausted');
    expect(snapshotTransitions(r.lines).saves).toBeGreaterThan(0);
  });
});

/**
 * --unsafe keep-log-on-install needs a follower holding entries of a minority term past the index of a
 * snapshot whose last entry is of an OLDER term, and a leader that compacted past where that follower's log
 * diverges. A node's snapshot ends where its state machine stood; an old-term entry is committed only with a
 * later-term entry after it, so a node applies exactly up to it only through a heartbeat at a leader's
 * compaction point (which carries the commit index capped there): hence snapshots keep one trailing entry.
 *
 * - term 1: n1 (the prelude's leader) takes two puts, 2@1 and 3@1, alone;
 * - term 2: n2 wins with n3's vote and takes three puts, 2@2 noop, 3@2, 4@2, 5@2, alone (the minority term);
 * - term 3: n1 wins with n3's vote, its noop 4@3 commits with n3 (and 2@1, 3@1 with it); n1 snapshots at 4
 *   and compacts to 3 (one trailing entry); n3 never hears the commit index;
 * - term 4: n3 campaigns (n2's vote never arrives) and deposes n1; term 5: n1 wins with n2's vote; its
 *   progress is new, so its heartbeat to n3 goes at its compaction point 3@1 with commit 3: n3 applies
 *   exactly up to 3@1 and snapshots there (compacting to 2);
 * - term 6: n3 wins with n2's vote (n3 lacks n1's 5@5); its noop is 5@6. n2 rejects with conflict term 2
 *   from index 2, below n3's compaction point: n3 sends its snapshot 3@1. The flag keeps n2's 4@2, 5@2
 *   (terms not below 1) and answers match=5, so n3 commits 5@6 on one copy (snapshot-committed sees it when
 *   n3 snapshots at 5); then n1, without 5@6, wins term 7 with n2's vote (leader completeness).
 *
 * Without the flag n2 discards its log, answers match=3, nothing commits on it, and n1's term 7 is legitimate.
 */
const KEEP_LOG_PATH = [
  // term 1: two puts at n1 alone
  'request n1 op0',
  'fsync n1',
  'request n1 op1',
  'fsync n1',
  // term 2: n2 wins with n3 and appends its noop and three puts alone
  'timeout n2',
  'timeout n3',
  'deliver n2->n3 MsgPreVote',
  'deliver n3->n2 MsgPreVoteResp',
  'fsync n2',
  'deliver n2->n3 MsgVote',
  'fsync n3',
  'deliver n3->n2 MsgVoteResp',
  'fsync n2',
  'request n2 op2',
  'fsync n2',
  'request n2 op3',
  'fsync n2',
  'request n2 op4',
  'fsync n2',
  // n1 learns term 2 from n3's answer to its old AppendEntries
  'deliver n1->n3 MsgApp term=1 prev=1@1 commit=1 seq=5',
  'deliver n3->n1 MsgAppResp',
  'fsync n1',
  // term 3: n1 wins with n3, commits its noop 4@3 (and 2@1, 3@1) with n3, snapshots at 4 (compacted to 3)
  'timeout n1',
  'deliver n1->n3 MsgPreVote',
  'deliver n3->n1 MsgPreVoteResp',
  'fsync n1',
  'deliver n1->n3 MsgVote',
  'fsync n3',
  'deliver n3->n1 MsgVoteResp',
  'fsync n1',
  'deliver n1->n3 MsgApp term=3 prev=3@1',
  'deliver n3->n1 MsgAppResp term=3 reject',
  'deliver n1->n3 MsgApp term=3 prev=1@1',
  'fsync n3',
  'deliver n3->n1 MsgAppResp term=3 match=4',
  'snapshot n1', // the prelude's request at 1
  'snapshot n1', // at 4: compacted to 3
  'snapshot n3', // n3's request at 1
  // term 4: n3 campaigns with n2's vote (never delivered); n1 learns term 4 through n2
  'deliver n1->n2 MsgApp term=3 prev=3@1',
  'fsync n2',
  'timeout n2',
  'timeout n3',
  'deliver n3->n2 MsgPreVote term=4',
  'deliver n2->n3 MsgPreVoteResp term=4',
  'fsync n3',
  'deliver n3->n2 MsgVote term=4',
  'fsync n2',
  'deliver n1->n2 MsgApp term=1 prev=1@1',
  'deliver n2->n1 MsgAppResp term=4',
  'fsync n1',
  // term 5: n1 wins with n2; its heartbeat at its compaction point makes n3 apply exactly up to 3@1
  'timeout n1',
  'deliver n1->n2 MsgPreVote term=5',
  'deliver n2->n1 MsgPreVoteResp term=5',
  'fsync n1',
  'deliver n1->n2 MsgVote term=5',
  'fsync n2',
  'deliver n2->n1 MsgVoteResp term=5',
  'fsync n1',
  'timeout n1',
  'deliver n1->n3 MsgApp term=5 prev=3@1 commit=3',
  'fsync n3',
  'snapshot n3', // at 3@1: compacted to 2
  // term 6: n3 wins with n2; n2's conflict hint is below n3's compaction point: InstallSnapshot 3@1
  'timeout n3',
  'deliver n3->n2 MsgPreVote term=6',
  'deliver n2->n3 MsgPreVoteResp term=6',
  'fsync n3',
  'deliver n3->n2 MsgVote term=6',
  'fsync n2',
  'deliver n2->n3 MsgVoteResp term=6',
  'fsync n3',
  'deliver n3->n2 MsgApp term=6',
  'deliver n2->n3 MsgAppResp term=6',
  'deliver n3->n2 MsgSnap',
  'fsync n2',
  'deliver n2->n3 MsgAppResp term=6', // flag: match=5 (n3 commits 5@6); without: match=3
  // term 7: n1 wins with n2's vote
  'deliver n1->n2 MsgApp term=5 prev=4@3',
  'deliver n2->n1 MsgAppResp term=6',
  'fsync n1',
  'timeout n2',
  'timeout n1',
  'deliver n1->n2 MsgPreVote term=7',
  'deliver n2->n1 MsgPreVoteResp term=7',
  'fsync n1',
  'deliver n1->n2 MsgVote term=7',
  'fsync n2',
  'deliver n2->n1 MsgVoteResp term=7',
];
const KEEP_LOG_BOUNDS = flags({
  start: 'leader',
  writes: 5,
  reads: 0,
  crashes: 0,
  drops: 0,
  dups: 0,
  timeouts: 4,
  retries: 0,
  'max-term': 8,
  'max-log': 8,
  snapshots: 4,
  'snapshot-every': 1,
  'snapshot-trailing': 1,
  // KEEP_LOG_PATH names the commit heartbeats a leader sent at once before it deferred them to its next tick.
  'commit-notice': 'immediate',
});
// Figure 3 and the other properties the default set checks without membership (commit-quorum, issue 18, is off there).
const FIGURE_3 = propertiesWithout('snapshot-committed', 'liveness', 'commit-quorum', 'founded-acks');
// The default set but founded-acks, which judges n2's answer to the snapshot itself, before any harm follows from it.
const HARM = propertiesWithout('commit-quorum', 'founded-acks');
/** Index of the step after which n2 has installed the snapshot (fsync n2 after deliver MsgSnap). */
const INSTALLED = KEEP_LOG_PATH.indexOf('deliver n3->n2 MsgSnap') + 2;

describe('--unsafe keep-log-on-install found by BFS (founded-acks)', () => {
  // A duplicated rejection makes n1 send its snapshot 2@1 to n3, which already holds 2@1 and 3@1 from an
  // AppendEntries whose answer is still on its way; n3 keeps 3@1 and answers match=3 (421,450 states, ~5 cpu-s).
  const BOUNDS = flags({
    start: 'leader',
    writes: 2,
    reads: 0,
    crashes: 0,
    drops: 0,
    dups: 1,
    timeouts: 0,
    retries: 0,
    snapshots: 2,
    'max-inflight': 3,
    'fault-budgets': 'cluster',
  });

  it('with the flag: a shortest counterexample, confirmed by the replay, the flag its cause', async () => {
    const r = await check([...BOUNDS, '--unsafe', 'keep-log-on-install']);
    expect(r.result.stopped).toBe('violation');
    expect(r.result.finding?.violation.property).toBe('founded-acks');
    expect(r.result.finding?.violation.message).toMatch(
      /answers n1's install_snapshot \(term 1, seq \d+, reaching index 2\) with matchIndex 3/,
    );
    expect(r.replayConfirmed).toBe(true);
    expect(r.lines.join('\n')).toMatch(/without the unsafe flags the same events violate nothing/);
    console.log(`  keep-log-on-install: founded-acks after ${r.counterexampleEvents} events`);
  });
});

describe('--unsafe keep-log-on-install on a path the model allows', () => {
  it('with the flag: n2 keeps 4@2, 5@2 past the snapshot 3@1 and claims them; n3 commits 5@6 on one copy', () => {
    const model = new Model(optionsOf([...KEEP_LOG_BOUNDS, ...HARM, '--unsafe', 'keep-log-on-install']));
    const upToInstall = walkEvents(model, KEEP_LOG_PATH.slice(0, INSTALLED));
    expect(upToInstall.violation).toBeNull();
    const n2 = model.node(upToInstall.world, 1).state.running!.core;
    expect(n2.snapshot).toMatchObject({ index: 3, term: 1 });
    expect(n2.log.map((e) => `${e.index}@${e.term}`)).toEqual(['4@2', '5@2']);
    const walked = walkEvents(model, KEEP_LOG_PATH);
    expect(walked.violation?.property).toBe('snapshot-committed');
    expect(walked.violation?.message).toMatch(/n3 snapshotted its state machine at index 5 \(term 6\), an entry only 1 of 3 voters/);
    const replayed = replayTrace(traceOf(model, walked.events));
    expect(replayed.violations.map((v) => v.message).join('\n')).toMatch(/snapshot: n3 snapshotted its state machine at index 5/);
  });

  it('with the flag, judged by Figure 3 alone: n1 leads term 7 without the committed 5@6 (leader completeness); the replay agrees', () => {
    const model = new Model(optionsOf([...KEEP_LOG_BOUNDS, ...FIGURE_3, '--unsafe', 'keep-log-on-install']));
    const walked = walkEvents(model, KEEP_LOG_PATH);
    expect(walked.violation?.property).toBe('leader-completeness');
    expect(walked.events.length).toBe(model.preludeEvents().length + KEEP_LOG_PATH.length);
    // The trace survives its file form (the `snapshot` events, the snapshot settings) and replays the same.
    const trace = parseTrace(JSON.parse(JSON.stringify(traceOf(model, walked.events))));
    expect(trace.params.snapshotTrailingEntries).toBe(1);
    expect(trace.events.filter((e) => e.kind === 'snapshot').length).toBe(4);
    const replayed = replayTrace(trace);
    expect(replayed.violations.map((v) => v.kind)).toContain('invariant');
    expect(replayed.violations.map((v) => v.message).join('\n')).toMatch(/leader completeness/i);
  });

  it('with founded-acks (on by default): the walk stops at n2 sending its answer to the snapshot, match=5 past 3; the replay agrees', () => {
    const model = new Model(optionsOf([...KEEP_LOG_BOUNDS, '--unsafe', 'keep-log-on-install']));
    const walked = walkEvents(model, KEEP_LOG_PATH.slice(0, INSTALLED));
    expect(walked.violation?.property).toBe('founded-acks');
    expect(walked.violation?.message).toMatch(/n2 answers n3's install_snapshot \(term 6, seq \d+, reaching index 3\) with matchIndex 5/);
    // Judged when n2 steps the snapshot; its answer waits for the fsync that sends it (the walk's last event).
    expect(walked.violation?.then).toEqual({ kind: 'fsync', node: 1 });
    expect(walked.events.length).toBe(model.preludeEvents().length + INSTALLED - 1);
    const replayed = replayTrace(traceOf(model, [...walked.events, model.toEvent(walked.world, walked.violation!.then!)]));
    expect(replayed.violations.map((v) => v.message).join('\n')).toMatch(/unfounded acknowledgement: n2 answered its InstallSnapshot/);
  });

  it('without the flag the same path breaks nothing: n2 discards its log and answers match=3; the replay agrees', () => {
    const model = new Model(optionsOf(KEEP_LOG_BOUNDS));
    const upToInstall = walkEvents(model, KEEP_LOG_PATH.slice(0, INSTALLED));
    expect(model.node(upToInstall.world, 1).state.running!.core.log).toEqual([]);
    const walked = walkEvents(model, KEEP_LOG_PATH);
    expect(walked.violation).toBeNull();
    expect(model.node(walked.world, 0).summary).toMatchObject({ role: 'leader', term: 7 });
    expect(model.node(walked.world, 2).summary.commitIndex).toBe(3); // n3 committed nothing on n2's answer
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });
});
