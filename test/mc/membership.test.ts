/**
 * Membership changes in the model checker (issue 16 with issue 18's
 * single-server changes): admin events at a leader propose add-learner,
 * promote and remove through the host's core calls (SteppedNode.admin);
 * spare identities start outside the configuration; the configuration is
 * part of the state and is relabelled with it. The correct core exhausts
 * small spaces with changes and no violation; `--unsafe config-on-commit`
 * is found by BFS (commit-quorum) and `--unsafe
 * conf-change-before-term-commit` breaks Leader Completeness on a path the
 * model allows (Ongaro's 2015 bug, in its smallest form: 2 voters and a
 * learner); the simulator's replay agrees, and each path is harmless
 * without its flag.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lanes } from '../../mc/hash.js';
import { encodeNodeState, relabelConfigData, relabelValue } from '../../mc/intern.js';
import { Model, type Action, type World } from '../../mc/model.js';
import { allPermutations, candidatePermutations, indexOfId, nodeIdOf } from '../../mc/symmetry.js';
import { describeSteppedMessage } from '../../sim/stepped/network.js';
import type { SteppedNodeState } from '../../sim/stepped/node.js';
import { decodeConfigEntry, encodeConfigEntry } from '../../node/raft/configuration.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { parseTrace } from '../../sim/stepped/trace.js';
import { check, flags, optionsOf, propertiesWithout, snapshotTransitions, traceOf, walkEvents } from './helpers.js';

/** n1 leads term 1 (the prelude), no client operation, no fault, no timer firing, no retry. */
const QUIET_LEADER = { start: 'leader', writes: 0, reads: 0, crashes: 0, drops: 0, dups: 0, timeouts: 0, retries: 0 } as const;
/** Three voters, one admin change: config-on-commit's bounds. */
const THREE_VOTERS_ONE_CHANGE = { ...QUIET_LEADER, nodes: 3, 'config-changes': 1 } as const;
/** Two voters (n1, n2) and a caught-up learner n3 (the prelude adds it), two admin changes. */
const TWO_VOTERS_AND_A_LEARNER = { ...QUIET_LEADER, nodes: 3, spares: 1, learners: 1, 'config-changes': 2 } as const;

function fp(model: Model, w: World): string {
  model.fingerprint(w);
  return `${lanes[0]}:${lanes[1]}`;
}

/**
 * `w` with its node ids relabelled by `map`, built independently of the
 * fingerprint code: each node state rewritten by the canonical encoding
 * (configurations and config entries included) and moved to its new slot,
 * the slot words (budgets, clocks) moved with it, messages and the committed
 * history relabelled, the operations' and leaders' node numbers mapped; then
 * imported as a new World (Model.exportWorlds / importWorlds).
 */
function relabelWorld(model: Model, w: World, map: ReadonlyMap<string, string>): World {
  const L = model.layout;
  const to = (slot: number): number => indexOfId(map.get(nodeIdOf(slot))!);
  const batch = model.exportWorlds([w], new Int32Array(2));
  const src = batch.worlds;
  const out = src.slice();
  const nodeStates: SteppedNodeState[] = [];
  const nodeSlots: number[] = [];
  const perNodeWords = (L.configChanges - L.budget) / L.n;
  out[L.paused] = 0;
  for (let i = 0; i < L.n; i++) {
    const j = to(i);
    nodeStates.push(JSON.parse(encodeNodeState(batch.nodeStates[src[L.nodes + i]!]!, map)) as SteppedNodeState);
    nodeSlots.push(j);
    out[L.nodes + j] = i;
    out[L.phases + j] = src[L.phases + i]!;
    out[L.backlog + j] = src[L.backlog + i]!;
    if ((src[L.paused]! & (1 << i)) !== 0) out[L.paused] = out[L.paused]! | (1 << j);
    for (let kind = 0; kind < perNodeWords; kind++) out[L.budget + kind * L.n + j] = src[L.budget + kind * L.n + i]!;
  }
  for (let k = 0; k < L.opCount; k++) {
    const at = L.ops + 4 * k + 1;
    out[at] = src[at] === -1 ? -1 : to(src[at]!);
  }
  for (let t = 0; t < L.maxTerm + 2; t++) out[L.leaders + t] = src[L.leaders + t] === -1 ? -1 : to(src[L.leaders + t]!);
  const commits = batch.commits.map((c) => ({
    entries: c.entries.map((e) => (e.type === 'config' ? { ...e, data: relabelConfigData(e.data, map) } : e)),
    terms: c.terms,
  }));
  let relabelled: World | null = null;
  model.importWorlds(
    { ...batch, nodeStates, nodeSlots, messages: batch.messages.map((m) => relabelValue(m, map)), commits, worlds: out },
    (world) => {
      relabelled = world;
    },
  );
  return relabelled!;
}

const SWAP_N2_N3: ReadonlyMap<string, string> = new Map([
  ['n1', 'n1'],
  ['n2', 'n3'],
  ['n3', 'n2'],
]);

describe('configurations under relabelling of node ids', () => {
  it('a config entry relabelled is the one the relabelled core writes (sorted lists, same field order)', () => {
    const text = encodeConfigEntry({ change: { type: 'remove', node: 'n2' }, configuration: { voters: ['n1', 'n3'], learners: ['n4'] } });
    const swapped = relabelConfigData(
      text,
      new Map([
        ['n1', 'n3'],
        ['n3', 'n1'],
        ['n2', 'n4'],
        ['n4', 'n2'],
      ]),
    );
    expect(swapped).toBe(
      encodeConfigEntry({ change: { type: 'remove', node: 'n4' }, configuration: { voters: ['n1', 'n3'], learners: ['n2'] } }),
    );
    expect(decodeConfigEntry(swapped).ok).toBe(true);
  });

  it('a state whose configurations, logs, messages and committed history name nodes, relabelled: one fingerprint with symmetry', () => {
    for (const symmetry of [true, false]) {
      const model = new Model({ ...optionsOf([...flags(THREE_VOTERS_ONE_CHANGE), '--commit-notice', 'immediate']), symmetry });
      // n1 removes n2: the config entry is in n1's and n3's logs, in flight to n2, and committed.
      const walked = walkEvents(model, [
        'admin n1 remove n2',
        'deliver n1->n3 MsgApp',
        'fsync n3',
        'fsync n1',
        'deliver n3->n1 MsgAppResp term=1 match=2',
      ]);
      expect(walked.violation).toBeNull();
      expect(model.node(walked.world, 0).summary.commitIndex).toBe(2);
      expect(model.node(walked.world, 0).summary.configuration).toEqual({ voters: ['n1', 'n3'], learners: [] });
      const swapped = relabelWorld(model, walked.world, SWAP_N2_N3);
      // A different World (n2 and n3 trade states; n1's configuration now names n2) ...
      expect(model.node(swapped, 0).summary.configuration).toEqual({ voters: ['n1', 'n2'], learners: [] });
      expect(Array.from(swapped)).not.toEqual(Array.from(walked.world));
      // ... that is the same state up to relabelling.
      expect(fp(model, swapped) === fp(model, walked.world)).toBe(symmetry);
      // Relabelled back, it is the World itself (the relabelling loses nothing).
      expect(fp(model, relabelWorld(model, swapped, SWAP_N2_N3))).toBe(fp(model, walked.world));
      // A state that differs only in which node the configuration removed is not merged with it.
      const other = walkEvents(model, [
        'admin n1 remove n3',
        'deliver n1->n2 MsgApp',
        'fsync n2',
        'fsync n1',
        'deliver n2->n1 MsgAppResp term=1 match=2',
      ]).world;
      // (the prelude left n2 and n3 in different states, so this is no relabelling of the first)
      expect(fp(model, other)).not.toBe(fp(model, walked.world));
    }
  });

  it('spares are interchangeable with each other, never with a voter', () => {
    const model = new Model(optionsOf(flags({ ...QUIET_LEADER, nodes: 4, spares: 2, 'config-changes': 1 })));
    // Two paths that mirror each other under the swap of the spares n3 and n4 (the prelude leaves both untouched):
    // the config entry in logs, in flight to the new learner, and committed.
    const grow = (spare: string): World => {
      const walked = walkEvents(model, [
        `admin n1 add_learner ${spare}`,
        'fsync n1',
        'deliver n1->n2 MsgApp',
        'fsync n2',
        'deliver n2->n1 MsgAppResp term=1 match=2',
      ]);
      expect(walked.violation).toBeNull();
      expect(model.node(walked.world, 0).summary.commitIndex).toBe(2);
      return walked.world;
    };
    expect(fp(model, walkEvents(model, ['admin n1 add_learner n3']).world)).toBe(
      fp(model, walkEvents(model, ['admin n1 add_learner n4']).world),
    );
    expect(fp(model, grow('n3'))).toBe(fp(model, grow('n4')));
    expect(fp(model, grow('n3'))).not.toBe(fp(model, walkEvents(model, ['admin n1 add_learner n3']).world));
    // Only relabellings that keep the blocks (bootstrap voters n1 n2, spares n3 n4): 2! * 2!.
    expect(model.perms.perms).toHaveLength(4);
    for (const perm of model.perms.perms) expect(Array.from(perm).map((image) => (image < 2 ? 'v' : 's'))).toEqual(['v', 'v', 's', 's']);
    // Signatures that would sort a spare before a voter still give a candidate: the order within each block.
    const set = allPermutations(3, 2);
    const out: number[] = [];
    candidatePermutations(set, [30, 10, 5], out);
    expect(out).toHaveLength(1);
    expect(Array.from(set.inverse[out[0]!]!)).toEqual([1, 0, 2]);
  });
});

/** Both runs exhaust `args` with no violation, to the same depth, and symmetry explores fewer states. */
async function expectSymmetryReduces(args: readonly string[]): Promise<void> {
  const reduced = await check(args);
  const full = await check([...args, '--no-symmetry']);
  for (const r of [reduced, full]) {
    expect(r.result.finding).toBeNull();
    expect(r.result.stopped).toBe('exhausted');
  }
  expect(reduced.result.stats.distinct).toBeLessThan(full.result.stats.distinct);
  expect(reduced.result.stats.maxDepth).toBe(full.result.stats.maxDepth);
}

describe('symmetry with spares: the same verdict, fewer states', () => {
  it('adding either of two spares as a learner: one state with symmetry; both runs exhausted, no violation', async () => {
    const args = flags({ ...QUIET_LEADER, nodes: 4, spares: 2, 'config-changes': 2, changes: 'add' });
    await expectSymmetryReduces(args);
  });
});

describe('the correct core with membership changes: bounded spaces exhausted with no violation', () => {
  for (const spec of [THREE_VOTERS_ONE_CHANGE, TWO_VOTERS_AND_A_LEARNER]) {
    const args = flags(spec);
    it(args.join(' '), async () => {
      const r = await check(args);
      expect(r.result.finding).toBeNull();
      expect(r.result.stopped).toBe('exhausted');
      expect(r.options.properties.has('commit-quorum')).toBe(true);
      expect(r.result.stats.distinct).toBeGreaterThan(100);
      expect(r.traceFile).toBeNull();
    });
  }

  it('the admin events reach every change kind: add a learner (the prelude), promote it, remove a voter', () => {
    const model = new Model(optionsOf(flags(TWO_VOTERS_AND_A_LEARNER)));
    expect(model.node(model.initial(), 0).summary.configuration).toEqual({ voters: ['n1', 'n2'], learners: ['n3'] });
    const adminsAt = (w: World): string[] => {
      const actions: Action[] = [];
      model.actions(w, actions);
      return actions.flatMap((a) => (a.kind === 'admin' ? [`${a.change} ${nodeIdOf(a.target)}`] : []));
    };
    expect(adminsAt(model.initial())).toContain('promote n3');
    const promoted = walkEvents(model, ['admin n1 promote n3']);
    // The promotion is uncommitted: the core refuses another change (only n1's own removal, a hand-over, is left).
    expect(adminsAt(promoted.world)).toEqual(['remove n1']);
    const committed = walkEvents(model, [
      'admin n1 promote n3',
      'fsync n1',
      'deliver n1->n2 MsgApp',
      'fsync n2',
      'deliver n2->n1 MsgAppResp term=1 match=3',
    ]);
    expect(committed.violation).toBeNull();
    expect(model.node(committed.world, 0).summary.configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: [] });
    expect(adminsAt(committed.world)).toEqual(['remove n1', 'remove n2', 'remove n3']);
  });
});

describe('--unsafe config-on-commit: BFS finds a commit without a majority of the new configuration', () => {
  it('n1 removes n3 and commits the removal with n3 (the old majority)', async () => {
    const r = await check([...flags(THREE_VOTERS_ONE_CHANGE), '--unsafe', 'config-on-commit']);
    expect(r.result.finding?.violation.property).toBe('commit-quorum');
    expect(r.result.finding?.violation.message).toMatch(/not a majority/);
    expect(r.replayConfirmed).toBe(true);
    const trace = parseTrace(JSON.parse(readFileSync(r.traceFile!, 'utf8')));
    expect(trace.events.some((e) => e.kind === 'admin' && e.change.type === 'remove')).toBe(true);
    const replayed = replayTrace(trace);
    expect(replayed.violations.map((v) => v.message).join('\n')).toMatch(/commit quorum/);
    console.log(`  config-on-commit: commit-quorum after ${r.counterexampleEvents} events`);
  });
});

/**
 * Ongaro's 2015 bug (raft-dev, "bug in single-server membership changes")
 * in its smallest form. With three voters no two single-server changes of
 * one configuration have disjoint majorities (a 4-voter and a 2-voter
 * configuration over 4 ids, or two 2-voter ones over 3, always share a
 * server), so the flag cannot break a 3-voter cluster; with 2 voters {n1,
 * n2} and a learner n3 it can: n1 promotes n3 ({n1,n2,n3}, majority {n1,n3})
 * and n2 removes n1 ({n2}, majority {n2}). n1 (leading term 1) promotes n3;
 * only n3 gets the entry; n1 crashes before its fsync and forgets it; n2
 * wins term 2 with n1's vote and, under the flag, removes n1 before its
 * noop commits, so the noop 3@2 commits on n2 alone; n3 learns term 2 from a
 * rejected pre-vote, campaigns again and wins term 3 with n1's vote
 * (majority of {n1,n2,n3}), without 3@2: Leader Completeness fails. 27
 * events after the start state; BFS does not reach that depth here (see
 * mc/README.md).
 */
const ONGARO_PATH: readonly string[] = [
  'admin n1 promote n3',
  'deliver n1->n3 MsgApp',
  'fsync n3',
  'crash n1',
  'restart n1',
  'timeout n1',
  'timeout n2',
  'deliver n2->n1 MsgPreVote',
  'deliver n1->n2 MsgPreVoteResp',
  'fsync n2',
  'deliver n2->n1 MsgVote ',
  'fsync n1',
  'deliver n1->n2 MsgVoteResp',
  'admin n2 remove n1',
  'fsync n2',
  'fsync n2',
  'timeout n3',
  'deliver n3->n1 MsgPreVote term=2',
  'deliver n1->n3 MsgPreVoteResp term=2 rejected',
  'fsync n3',
  'timeout n3',
  'deliver n3->n1 MsgPreVote term=3',
  'deliver n1->n3 MsgPreVoteResp term=3 granted',
  'fsync n3',
  'deliver n3->n1 MsgVote term=3',
  'fsync n1',
  'deliver n1->n3 MsgVoteResp term=3 granted',
];
/** The bounds the path needs: one crash in the cluster, two timer firings per node, terms <= 3. */
// ONGARO_PATH names the commit heartbeats a leader sent at once before it deferred them to its next tick.
const ONGARO_BOUNDS = {
  ...TWO_VOTERS_AND_A_LEARNER,
  crashes: 1,
  'fault-budgets': 'cluster',
  timeouts: 2,
  'max-term': 3,
  'commit-notice': 'immediate',
} as const;

describe('--unsafe conf-change-before-term-commit found by BFS (config-change-rule)', () => {
  it('n2, new leader of term 2, appends a change before its noop commits; the replay confirms; the flag its cause', async () => {
    // 38,311 states, ~1.3 cpu-s (2026-12-07).
    const r = await check([
      ...flags({ ...TWO_VOTERS_AND_A_LEARNER, timeouts: 2, 'max-term': 3, 'max-inflight': 4 }),
      '--unsafe',
      'conf-change-before-term-commit',
    ]);
    expect(r.result.finding?.violation.property).toBe('config-change-rule');
    expect(r.result.finding?.violation.message).toMatch(
      /leader of term 2, appended configuration entry \d+ with commit index \d+ \(term 1\): no entry of its term committed yet/,
    );
    expect(r.replayConfirmed).toBe(true);
    expect(r.lines.join('\n')).toMatch(/without the unsafe flags the same events violate nothing/);
    console.log(`  conf-change-before-term-commit: config-change-rule after ${r.counterexampleEvents} events`);
  });
});

describe('--unsafe conf-change-before-term-commit: two configurations with disjoint majorities both decide', () => {
  it('on a path the model allows, n3 wins term 3 without the entry n2 committed in term 2; the replay agrees', () => {
    const model = new Model(
      optionsOf([...flags(ONGARO_BOUNDS), ...propertiesWithout('config-change-rule'), '--unsafe', 'conf-change-before-term-commit']),
    );
    const walked = walkEvents(model, ONGARO_PATH);
    expect(walked.events).toHaveLength(model.preludeEvents().length + ONGARO_PATH.length);
    expect(walked.violation?.property).toBe('leader-completeness');
    expect(walked.violation?.message).toMatch(/n3 became leader of term 3 without committed entry 3@2 noop/);
    const trace = parseTrace(JSON.parse(JSON.stringify(traceOf(model, walked.events))));
    const replayed = replayTrace(trace);
    expect(replayed.violations.map((v) => `${v.kind}: ${v.message}`).join('\n')).toMatch(/leader completeness/i);
  });

  it('without the flag n2 cannot start the change, and the same path without it breaks nothing', () => {
    const model = new Model(optionsOf(flags(ONGARO_BOUNDS)));
    const elected = walkEvents(model, ONGARO_PATH.slice(0, 13));
    expect(elected.violation).toBeNull();
    expect(model.node(elected.world, 1).summary.role).toBe('leader');
    const actions: Action[] = [];
    model.actions(elected.world, actions);
    // The core refuses n2's change until its noop commits (the admin event changes nothing: not enabled); what is
    // left is n2's own removal, which the host turns into a hand-over (transferLeadership).
    expect(actions.filter((a) => a.kind === 'admin')).toEqual([{ kind: 'admin', node: 1, change: 'remove', target: 1 }]);
    const rest = ONGARO_PATH.slice(13).filter((step) => step !== 'admin n2 remove n1' && step !== 'fsync n2');
    const walked = walkEvents(model, [...ONGARO_PATH.slice(0, 13), 'fsync n2', ...rest]);
    expect(walked.violation).toBeNull();
    // n3 leads term 3 legitimately: n2's noop was never committed (n2 needs n1 for a majority of {n1, n2}).
    expect(model.node(walked.world, 2).summary.role).toBe('leader');
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });
});

/**
 * Snapshots together with membership changes (issues 16 and 18): a
 * snapshot's configuration (in a node's state, in InstallSnapshot and its
 * chunks) names nodes, so it is relabelled with them, and the "no
 * uncommitted state in a snapshot" property counts the voters of the
 * configurations an entry may have committed under, as the simulator's does.
 */
const SNAPSHOTS_AND_CHANGES = { ...TWO_VOTERS_AND_A_LEARNER, learners: 0, writes: 1, snapshots: 2 } as const;

describe('snapshots with membership changes', () => {
  it('an entry committed by a leader alone after it removed the other voter may be snapshotted (no false alarm)', () => {
    const model = new Model(optionsOf(flags(SNAPSHOTS_AND_CHANGES)));
    // n1 removes n2 ({n1} decides alone) and commits the removal at once; with a snapshot every entry it serialises 2@1,
    // which only n1 of the bootstrap voters {n1, n2} holds: committed all the same (the committed history has it).
    const walked = walkEvents(model, ['snapshot n1', 'admin n1 remove n2', 'fsync n1']);
    expect(walked.violation).toBeNull();
    expect(model.node(walked.world, 0).summary.commitIndex).toBe(2);
    expect(model.node(walked.world, 0).summary.configuration).toEqual({ voters: ['n1'], learners: [] });
    expect(model.node(walked.world, 0).state.running?.snapshotSave?.meta).toEqual({
      index: 2,
      term: 1,
      configuration: { voters: ['n1'], learners: [] },
    });
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });

  /** n1 adds learner n3, catches it up by InstallSnapshot, commits a put and "remove n2" alone, snapshots at the put. */
  const LEARNER_SNAPSHOTS_PUT: readonly string[] = [
    'snapshot n1',
    'admin n1 add_learner n3',
    'deliver n1->n2 MsgApp',
    'deliver n1->n3 MsgApp',
    'fsync n1',
    'fsync n2',
    'fsync n3',
    'deliver n3->n1 MsgAppResp term=1 reject',
    'deliver n1->n3 MsgSnap',
    'fsync n3',
    'request n1',
    'deliver n3->n1 MsgAppResp term=1 match=1',
    'deliver n2->n1 MsgAppResp term=1 match=2',
    'admin n1 remove n2',
    'fsync n1',
    'deliver n1->n3 MsgApp term=1 prev=3@1',
    'deliver n1->n3 MsgApp term=1 prev=1@1',
    'fsync n1',
    'snapshot n1',
    'deliver n3->n1 MsgAppResp term=1 reject=3',
    'deliver n1->n3 MsgSnap term=1 seq=9 snapshot=3@1',
    'fsync n3',
  ];

  it('a learner that serialises an entry its leader committed under a newer configuration: no false alarm', () => {
    const model = new Model(optionsOf(flags(SNAPSHOTS_AND_CHANGES)));
    const walked = walkEvents(model, LEARNER_SNAPSHOTS_PUT);
    expect(walked.violation).toBeNull();
    // n3 serialised 3@1 (the put), which of the voters of {n1, n2} (the configuration at 3) only n1 holds.
    expect(model.node(walked.world, 2).state.running?.snapshotSave?.meta.index).toBe(3);
    expect(model.node(walked.world, 1).summary.logLength).toBe(2);
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });

  it.each([0, 128])(
    'an InstallSnapshot whose configuration names nodes (chunks of %i bytes; 0: one message), relabelled: one fingerprint with symmetry',
    (chunkBytes) => {
      const args = [
        ...flags({ ...SNAPSHOTS_AND_CHANGES, nodes: 4, spares: 2 }),
        '--commit-notice',
        'immediate',
        '--snapshot-chunk-bytes',
        String(chunkBytes),
      ];
      for (const symmetry of [true, false]) {
        const model = new Model({ ...optionsOf(args), symmetry });
        // n1 adds the spare n3 (the learner to catch up by snapshot), removes n2 and snapshots {n1} + learner n3.
        const walk = (spare: string): World => {
          const walked = walkEvents(model, [
            `admin n1 add_learner ${spare}`,
            'deliver n1->n2 MsgApp',
            'fsync n1',
            'fsync n2',
            'deliver n2->n1 MsgAppResp term=1 match=2',
            'admin n1 remove n2',
            'fsync n1',
            'snapshot n1', // 1@1, which the prelude's noop asked for
            'snapshot n1', // 3@1: voters [n1], learners [the spare]
            `deliver n1->${spare} MsgApp term=1 prev=1@1`,
            `fsync ${spare}`,
            `deliver ${spare}->n1 MsgAppResp term=1 reject`,
          ]);
          expect(walked.violation).toBeNull();
          return walked.world;
        };
        const viaN3 = walk('n3');
        const inFlight = model
          .exportWorlds([viaN3], new Int32Array(2))
          .messages.map(describeSteppedMessage)
          .filter((m) => m.includes('MsgSnap'));
        // One InstallSnapshot, or the first window of its chunks (which list the members without brackets).
        expect(inFlight.length).toBeGreaterThan(0);
        for (const m of inFlight) expect(m).toMatch(/^n1->n3 MsgSnap(Chunk)? term=1 .*voters=\[?n1\]? learners=\[?n3\]? /);
        expect(inFlight.some((m) => m.includes('MsgSnapChunk'))).toBe(chunkBytes > 0);
        // The same with the spares' roles swapped is the same state up to relabelling (n3 <-> n4) ...
        const viaN4 = walk('n4');
        expect(Array.from(viaN4)).not.toEqual(Array.from(viaN3));
        expect(fp(model, viaN4) === fp(model, viaN3)).toBe(symmetry);
        // ... and so is its independent relabelling.
        const SWAP_SPARES = new Map([
          ['n1', 'n1'],
          ['n2', 'n2'],
          ['n3', 'n4'],
          ['n4', 'n3'],
        ]);
        expect(fp(model, relabelWorld(model, viaN3, SWAP_SPARES)) === fp(model, viaN3)).toBe(symmetry);
        expect(fp(model, relabelWorld(model, viaN3, SWAP_SPARES))).toBe(fp(model, viaN4));
      }
    },
  );

  it('the correct core with snapshots and changes: exhausted with no violation, installs included', async () => {
    const r = await check(flags({ ...SNAPSHOTS_AND_CHANGES, writes: 0, 'max-inflight': 4 }));
    expect(r.result.finding).toBeNull();
    expect(r.result.stopped).toBe('exhausted');
    expect(r.result.stats.distinct).toBeGreaterThan(1000);
    expect(snapshotTransitions(r.lines).installs).toBeGreaterThan(0);
  });

  it('the same verdict without symmetry, on more states (two spares, one change, snapshots)', async () => {
    const args = flags({ ...QUIET_LEADER, nodes: 4, spares: 2, 'config-changes': 1, snapshots: 2, 'max-inflight': 4 });
    await expectSymmetryReduces(args);
  });
});
