/**
 * Commit quorums judged over the configurations seen on the wire
 * (checker/commit-quorum.ts): both directions. A run that changes
 * membership is not judged against a fixed member set (no false report),
 * and a commit counted with the wrong configuration's majority is reported.
 */
import { describe, expect, it } from 'vitest';
import {
  CommitQuorumLedger,
  configurationOfEntryData,
  majorityHolds,
  type WireAppend,
  type WireConfiguration,
  type WireEntry,
} from '../../checker/commit-quorum.js';

const three: WireConfiguration = { voters: ['n1', 'n2', 'n3'], learners: [] };

/** A config entry's data as node/raft/configuration.ts encodes it. */
function configEntry(index: number, term: number, change: string, node: string, voters: string[], learners: string[] = []): WireEntry {
  return { index, term, type: 'config', data: JSON.stringify({ change: { type: change, node }, voters, learners }) };
}

function cmd(index: number, term: number): WireEntry {
  return { index, term, type: 'command', data: 'x' };
}

/** A leader's AppendEntries: seq in the order it sent them. */
function ae(
  from: string,
  to: string,
  term: number,
  seq: number,
  prevLogIndex: number,
  entries: WireEntry[],
  leaderCommit: number,
): WireAppend {
  return { term, from, to, prevLogIndex, entries, leaderCommit, seq };
}

const ack = (from: string, to: string, term: number, matchIndex: number) => ({ term, from, to, success: true, matchIndex });

/** Term 1: n1 commits 1-3 with everyone's acknowledgement. */
function termOne(ledger: CommitQuorumLedger): void {
  ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1), cmd(2, 1), cmd(3, 1)], 0));
  for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 1, 3));
  ledger.append(ae('n1', 'n2', 1, 2, 3, [], 3));
}

describe('configurationOfEntryData', () => {
  it('reads the configuration of a config entry, and nothing else', () => {
    expect(configurationOfEntryData(configEntry(1, 1, 'remove', 'n3', ['n2', 'n1']).data)).toEqual({ voters: ['n1', 'n2'], learners: [] });
    expect(configurationOfEntryData('{"put":"k"}')).toBeNull();
    expect(configurationOfEntryData('not json')).toBeNull();
    expect(configurationOfEntryData(JSON.stringify({ voters: [], learners: [] }))).toBeNull();
  });
});

describe('CommitQuorumLedger', () => {
  it('a cluster grown from 3 to 5 voters commits with majorities the first 3 do not form: not reported', () => {
    const ledger = new CommitQuorumLedger(three);
    let seq = 0;
    ledger.append(ae('n1', 'n2', 1, ++seq, 0, [cmd(1, 1)], 0));
    ledger.appendResponse(ack('n2', 'n1', 1, 1));
    const entries = [
      configEntry(2, 1, 'add_learner', 'n4', ['n1', 'n2', 'n3'], ['n4']),
      configEntry(3, 1, 'promote', 'n4', ['n1', 'n2', 'n3', 'n4']),
      configEntry(4, 1, 'add_learner', 'n5', ['n1', 'n2', 'n3', 'n4'], ['n5']),
      configEntry(5, 1, 'promote', 'n5', ['n1', 'n2', 'n3', 'n4', 'n5']),
    ];
    // Each change committed by n1 with n2 and n3 (a majority of every configuration up to 4 voters).
    for (const e of entries) {
      ledger.append(ae('n1', 'n2', 1, ++seq, e.index - 1, [e], e.index - 1));
      ledger.appendResponse(ack('n2', 'n1', 1, e.index));
      ledger.appendResponse(ack('n3', 'n1', 1, e.index));
      ledger.append(ae('n1', 'n2', 1, ++seq, e.index, [], e.index));
    }
    // Now 5 voters; n2 and n3 fall behind, n4 and n5 acknowledge 6: n1, n4, n5 are 3 of 5.
    ledger.append(ae('n1', 'n4', 1, ++seq, 5, [cmd(6, 1)], 5));
    ledger.appendResponse(ack('n4', 'n1', 1, 6));
    ledger.appendResponse(ack('n5', 'n1', 1, 6));
    const found = ledger.append(ae('n1', 'n4', 1, ++seq, 6, [cmd(7, 1)], 6));
    // A fixed member set (the bootstrap's) would call this commit unsupported: only n1 of n1, n2, n3 holds it.
    expect(
      majorityHolds(
        three,
        'n1',
        new Map([
          ['n4', 6],
          ['n5', 6],
        ]),
        6,
      ),
    ).toBe(false);
    expect([...found, ...ledger.finish()]).toEqual([]);
  });

  it('a removal committed with the old configuration (the removed node counted) is reported', () => {
    const ledger = new CommitQuorumLedger(three);
    // n1 leads term 2 with entries up to 4 committed by everyone.
    termOne(ledger);
    ledger.append(ae('n1', 'n2', 2, 1, 3, [cmd(4, 2)], 3));
    for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 2, 4));
    ledger.append(ae('n1', 'n2', 2, 2, 4, [], 4));
    // It appends the removal of n3 at 5 (in effect at once, §4.1: voters n1, n2) and sends it to both.
    const removal = configEntry(5, 2, 'remove', 'n3', ['n1', 'n2']);
    ledger.append(ae('n1', 'n2', 2, 3, 4, [removal], 4));
    ledger.append(ae('n1', 'n3', 2, 4, 4, [removal], 4));
    // Only n3 acknowledges; a leader counting the old configuration (n1 + n3 of three) commits 5.
    ledger.appendResponse(ack('n3', 'n1', 2, 5));
    const early = ledger.append(ae('n1', 'n3', 2, 5, 5, [cmd(6, 2)], 5));
    expect(early).toEqual([]); // judged once the leader's seq has moved past the grace window
    const found = ledger.finish();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ leader: 'n1', term: 2, commitIndex: 5, acked: { n2: 4, n3: 5 } });
    expect(found[0]!.configurations).toEqual([{ voters: ['n1', 'n2'], learners: [] }]);
    expect(found[0]!.message).toContain('voters=[n1,n2]: held by n1');
  });

  it('the same removal committed with the new configuration (n2 acknowledged) is not reported', () => {
    const ledger = new CommitQuorumLedger(three);
    termOne(ledger);
    ledger.append(ae('n1', 'n2', 2, 1, 3, [cmd(4, 2)], 3));
    for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 2, 4));
    ledger.append(ae('n1', 'n2', 2, 2, 4, [], 4));
    const removal = configEntry(5, 2, 'remove', 'n3', ['n1', 'n2']);
    ledger.append(ae('n1', 'n2', 2, 3, 4, [removal], 4));
    ledger.append(ae('n1', 'n3', 2, 4, 4, [removal], 4));
    ledger.appendResponse(ack('n3', 'n1', 2, 5));
    ledger.appendResponse(ack('n2', 'n1', 2, 5));
    ledger.append(ae('n1', 'n2', 2, 5, 5, [cmd(6, 2)], 5));
    expect(ledger.finish()).toEqual([]);
  });

  it('a leader that removes itself does not count itself (§4.2.2)', () => {
    for (const [acks, violations] of [
      [['n2'], 1],
      [['n2', 'n3'], 0],
    ] as const) {
      const ledger = new CommitQuorumLedger(three);
      ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1)], 0));
      for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 1, 1));
      ledger.append(ae('n1', 'n2', 1, 2, 1, [], 1));
      const removal = configEntry(2, 1, 'remove', 'n1', ['n2', 'n3']);
      ledger.append(ae('n1', 'n2', 1, 3, 1, [removal], 1));
      for (const f of acks) ledger.appendResponse(ack(f, 'n1', 1, 2));
      ledger.append(ae('n1', 'n2', 1, 4, 2, [], 2));
      expect(ledger.finish(), `acknowledged by ${acks.join(', ')}`).toHaveLength(violations);
    }
  });

  it('a promotion that commits with its new majority before its entry is sent (same step) is not reported', () => {
    const ledger = new CommitQuorumLedger({ voters: ['n1', 'n2'], learners: ['n3'] });
    ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1)], 0));
    ledger.appendResponse(ack('n2', 'n1', 1, 1));
    ledger.appendResponse(ack('n3', 'n1', 1, 1));
    ledger.append(ae('n1', 'n2', 1, 2, 1, [cmd(2, 1)], 1));
    // n3 (a learner) holds 2, n2 does not. n1 appends "promote n3" at 3: voters n1, n2, n3, so n1 + n3 commit 2,
    // and the heartbeat carrying commit 2 leaves before the AppendEntries carrying the entry.
    ledger.appendResponse(ack('n3', 'n1', 1, 2));
    ledger.append(ae('n1', 'n3', 1, 3, 2, [], 2));
    ledger.append(ae('n1', 'n3', 1, 4, 2, [configEntry(3, 1, 'promote', 'n3', ['n1', 'n2', 'n3'])], 2));
    expect(ledger.finish()).toEqual([]);
  });

  it('a learner counted as a voter is reported', () => {
    const ledger = new CommitQuorumLedger({ voters: ['n1', 'n2'], learners: ['n3'] });
    ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1)], 0));
    ledger.appendResponse(ack('n2', 'n1', 1, 1));
    ledger.append(ae('n1', 'n2', 1, 2, 1, [cmd(2, 1)], 1));
    ledger.appendResponse(ack('n3', 'n1', 1, 2));
    ledger.append(ae('n1', 'n3', 1, 3, 2, [cmd(3, 1)], 2));
    // Long after (judged on the way, once the grace window has passed): no promotion came, so nothing makes n3 a voter.
    const found = [];
    for (let seq = 4; seq < 200; seq++) found.push(...ledger.append(ae('n1', 'n2', 1, seq, 1, [], 1)));
    expect(found).toHaveLength(1);
    found.push(...ledger.finish());
    expect(found.map((v) => v.commitIndex)).toEqual([2]);
  });

  it('a new leader advertising the commit index an earlier term reached is not judged again', () => {
    const ledger = new CommitQuorumLedger(three);
    ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1), cmd(2, 1)], 0));
    for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 1, 2));
    ledger.append(ae('n1', 'n2', 1, 2, 2, [], 2));
    // n2 leads term 2 and, before anyone acknowledged anything, says commit 2 (learnt from n1).
    ledger.append(ae('n2', 'n3', 2, 1, 2, [], 2));
    expect(ledger.finish()).toEqual([]);
    // But commit 3 in term 2 with no acknowledgement at all is reported.
    ledger.append(ae('n2', 'n3', 2, 2, 2, [cmd(3, 2)], 3));
    expect(ledger.finish().map((v) => [v.leader, v.term, v.commitIndex])).toEqual([['n2', 2, 3]]);
  });

  it('a configuration entry taken in out of order across links still counts for the window it was sent in', () => {
    const ledger = new CommitQuorumLedger(three);
    ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1)], 0));
    ledger.appendResponse(ack('n3', 'n1', 1, 1));
    // The relay takes seq 3 (the removal of n3, appended after commit 1 was computed) before seq 2 (that commit).
    ledger.append(ae('n1', 'n2', 1, 3, 1, [configEntry(2, 1, 'remove', 'n3', ['n1', 'n2'])], 1));
    ledger.append(ae('n1', 'n3', 1, 2, 1, [], 1));
    expect(ledger.finish()).toEqual([]);
  });
});

describe('CommitQuorumLedger elections', () => {
  /** Term 1: n1 grows {n1, n2, n3} by n4 (learner, then voter), each change committed with n2 and n3. */
  function grownToFour(ledger: CommitQuorumLedger): void {
    ledger.vote({ voter: 'n2', candidate: 'n1', term: 1 });
    const changes = [
      configEntry(1, 1, 'add_learner', 'n4', ['n1', 'n2', 'n3'], ['n4']),
      configEntry(2, 1, 'promote', 'n4', ['n1', 'n2', 'n3', 'n4']),
    ];
    let seq = 0;
    for (const e of changes) {
      ledger.append(ae('n1', 'n2', 1, ++seq, e.index - 1, [e], e.index - 1));
      for (const f of ['n2', 'n3', 'n4']) ledger.appendResponse(ack(f, 'n1', 1, e.index));
      ledger.append(ae('n1', 'n2', 1, ++seq, e.index, [], e.index));
    }
  }

  it('a leader elected by a majority of the grown configuration, not of the bootstrap one, is not reported', () => {
    const ledger = new CommitQuorumLedger(three);
    grownToFour(ledger);
    expect(ledger.electionViolations()).toEqual([]);
    // n4 wins term 2 with n3 and n1: 3 of 4 (of the bootstrap's n1-n3 only n1 and n3, but n4 counts now).
    ledger.vote({ voter: 'n3', candidate: 'n4', term: 2 });
    ledger.vote({ voter: 'n1', candidate: 'n4', term: 2 });
    ledger.append(ae('n4', 'n1', 2, 1, 2, [], 2));
    expect(ledger.electionViolations()).toEqual([]);
  });

  it('a leader that counted its votes in the old configuration (2 of 4) is reported', () => {
    const ledger = new CommitQuorumLedger(three);
    grownToFour(ledger);
    // n2 wins term 2 with n3 alone: a majority of {n1, n2, n3}, not of {n1, n2, n3, n4}.
    ledger.vote({ voter: 'n3', candidate: 'n2', term: 2 });
    ledger.append(ae('n2', 'n3', 2, 1, 2, [], 2));
    const found = ledger.electionViolations();
    expect(found.map((v) => [v.leader, v.term, v.votes])).toEqual([['n2', 2, ['n3']]]);
    expect(found[0]!.message).toContain('voters=[n1,n2,n3,n4]');
    expect(ledger.electionViolations()).toEqual([]); // reported once
  });

  it('an uncommitted configuration the candidate may hold counts too (its log may end with it)', () => {
    const ledger = new CommitQuorumLedger(three);
    ledger.vote({ voter: 'n2', candidate: 'n1', term: 1 });
    ledger.append(ae('n1', 'n2', 1, 1, 0, [cmd(1, 1)], 0));
    for (const f of ['n2', 'n3']) ledger.appendResponse(ack(f, 'n1', 1, 1));
    // n1 appends the removal of n3 and reaches only n2 before it crashes: uncommitted, {n1, n2}.
    ledger.append(ae('n1', 'n2', 1, 2, 1, [configEntry(2, 1, 'remove', 'n3', ['n1', 'n2'])], 1));
    // n2 (holding it) wins term 2 with n1's vote: 2 of {n1, n2}.
    ledger.vote({ voter: 'n1', candidate: 'n2', term: 2 });
    ledger.append(ae('n2', 'n1', 2, 1, 2, [], 1));
    expect(ledger.electionViolations()).toEqual([]);
    // n3 (not holding it) winning term 3 with nobody's vote (n1 voted for n2 in term 3) is no majority of anything.
    ledger.vote({ voter: 'n1', candidate: 'n2', term: 3 });
    ledger.append(ae('n3', 'n1', 3, 1, 1, [], 1));
    expect(ledger.electionViolations().map((v) => v.leader)).toEqual(['n3']);
    // A term with no vote seen at all is an election the monitor did not see: not judged.
    ledger.append(ae('n3', 'n1', 4, 1, 1, [], 1));
    expect(ledger.electionViolations()).toEqual([]);
  });
});
