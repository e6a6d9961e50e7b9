/**
 * Configurations and single-server changes (Raft dissertation §4.1), the
 * `config` entry's text form, and the history that rolls configurations
 * back with a truncated log (node/raft/configuration.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyConfChange,
  ConfigHistory,
  configurationProblem,
  decodeConfigEntry,
  encodeConfigEntry,
  makeConfiguration,
  MAX_MEMBERS,
  othersOf,
} from '../../../node/raft/configuration.js';
import { compactionPoint, compactionPolicyOf, defaultCompaction, snapshotDue } from '../../../node/raft/compaction.js';
import type { ConfChange, Configuration } from '../../../node/raft/types.js';
import { AssertionError } from '../../../node/util/assert.js';
import { ids, makeConfig } from './network.js';

const base: Configuration = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('single-server changes (§4.1)', () => {
  it('add a learner, promote it, remove a voter: one server at a time', () => {
    const added = applyConfChange(base, { type: 'add_learner', node: 'n4' });
    expect(added).toEqual({ ok: true, configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } });
    const promoted = added.ok ? applyConfChange(added.configuration, { type: 'promote', node: 'n4' }) : added;
    expect(promoted).toEqual({ ok: true, configuration: { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] } });
    expect(applyConfChange(base, { type: 'remove', node: 'n2' })).toEqual({
      ok: true,
      configuration: { voters: ['n1', 'n3'], learners: [] },
    });
  });

  it('refuses what is not a change of one member', () => {
    const detail = (change: ConfChange, from: Configuration = base): string => {
      const result = applyConfChange(from, change);
      return result.ok ? 'ok' : result.detail;
    };
    expect(detail({ type: 'add_learner', node: 'n1' })).toBe('n1 is already a voter');
    expect(detail({ type: 'promote', node: 'n1' })).toMatch(/n1 is not a learner/);
    expect(detail({ type: 'remove', node: 'n9' })).toBe('n9 is not a member');
    expect(detail({ type: 'remove', node: 'n1' }, { voters: ['n1'], learners: [] })).toBe('n1 is the last voter');
    expect(detail({ type: 'add_learner', node: '' })).toMatch(/bad node id/);
    const full = { voters: ['n1'], learners: Array.from({ length: MAX_MEMBERS - 1 }, (_, i) => `l${String(i).padStart(2, '0')}`) };
    expect(configurationProblem(full)).toBeNull();
    expect(detail({ type: 'add_learner', node: 'x' }, full)).toMatch(/the most it may have/);
  });

  it('every change leads to a well-formed configuration whose majorities overlap the old ones (property)', () => {
    const change = fc.record({
      type: fc.constantFrom('add_learner' as const, 'promote' as const, 'remove' as const),
      node: fc.constantFrom('n1', 'n2', 'n3', 'n4', 'n5', 'n6'),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 30 }), (changes) => {
        let current = base;
        for (const c of changes) {
          const next = applyConfChange(current, c);
          if (!next.ok) continue;
          expect(configurationProblem(next.configuration)).toBeNull();
          // Voters differ by at most one server, so any two majorities intersect.
          const added = next.configuration.voters.filter((v) => !current.voters.includes(v)).length;
          const removed = current.voters.filter((v) => !next.configuration.voters.includes(v)).length;
          expect(added + removed).toBeLessThanOrEqual(1);
          // The entry's text form reads back as the same change and configuration.
          expect(decodeConfigEntry(encodeConfigEntry({ change: c, configuration: next.configuration }))).toEqual({
            ok: true,
            data: { change: c, configuration: next.configuration },
          });
          current = next.configuration;
        }
      }),
      { seed: 18, numRuns: 200 },
    );
  });
});

describe('the config entry (decodeConfigEntry is total)', () => {
  it('refuses malformed or inconsistent entries', () => {
    const bad = [
      'not json',
      '[]',
      '{"change":{"type":"add_learner","node":"n4"},"voters":["n1"]}',
      '{"change":{"type":"add_learner","node":"n4"},"voters":["n1"],"learners":[],"x":1}',
      '{"change":{"type":"grow","node":"n4"},"voters":["n1"],"learners":["n4"]}',
      '{"change":{"type":"add_learner","node":"n4"},"voters":["n1"],"learners":[]}', // n4 is not a learner there
      '{"change":{"type":"remove","node":"n1"},"voters":["n1"],"learners":[]}', // n1 is still there
      '{"change":{"type":"promote","node":"n2"},"voters":["n2","n1"],"learners":[]}', // unsorted
      '{"change":{"type":"remove","node":"n2"},"voters":[],"learners":[]}', // no voters
      '{"change":{"type":"add_learner","node":"n1"},"voters":["n1"],"learners":["n1"]}', // both
    ];
    for (const text of bad) expect(decodeConfigEntry(text).ok, text).toBe(false);
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(typeof decodeConfigEntry(text).ok).toBe('boolean');
      }),
      { seed: 18 },
    );
  });
});

describe('ConfigHistory', () => {
  it('answers the configuration at an index, rolls back with a truncation, and rebases on a snapshot', () => {
    const history = new ConfigHistory({ index: 0, configuration: base });
    const withLearner = makeConfiguration(['n1', 'n2', 'n3'], ['n4']);
    const promoted = makeConfiguration(['n1', 'n2', 'n3', 'n4']);
    history.push(5, withLearner);
    history.push(9, promoted);
    expect([4, 5, 8, 9, 20].map((i) => history.at(i))).toEqual([base, withLearner, withLearner, promoted, promoted]);
    expect(() => history.push(9, base)).toThrow(AssertionError);
    history.truncateFrom(9);
    expect(history.current()).toEqual(withLearner);
    expect(history.lastIndex()).toBe(5);
    history.truncateFrom(1);
    expect(history.current()).toEqual(base); // the base is never dropped
    history.push(5, withLearner);
    history.push(9, promoted);
    history.rebase({ index: 7, configuration: withLearner });
    expect(history.points.map((p) => p.index)).toEqual([7, 9]);
    expect(() => history.at(6)).toThrow(AssertionError);
    expect([...history.members()].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(othersOf(promoted, 'n2')).toEqual(['n1', 'n3', 'n4']);
  });
});

describe('compaction policy (§7)', () => {
  it("defaults in etcd's spirit, and checks its numbers", () => {
    expect(defaultCompaction).toEqual({
      snapshotEveryEntries: 10_000,
      snapshotEveryBytes: 16 * 1024 * 1024,
      snapshotTrailingEntries: 5_000,
    });
    expect(compactionPolicyOf(makeConfig('n1', ids(3)))).toEqual(defaultCompaction);
    expect(compactionPolicyOf(makeConfig('n1', ids(3), { snapshotEveryEntries: null })).snapshotEveryEntries).toBeNull();
    expect(() => compactionPolicyOf(makeConfig('n1', ids(3), { snapshotEveryEntries: 0 }))).toThrow(AssertionError);
    expect(() => compactionPolicyOf(makeConfig('n1', ids(3), { snapshotTrailingEntries: -1 }))).toThrow(AssertionError);
  });

  it('is due on entries or bytes, and compacts up to the trailing tail before the snapshot, never backwards', () => {
    const policy = { snapshotEveryEntries: 100, snapshotEveryBytes: 1000, snapshotTrailingEntries: 10 };
    expect([snapshotDue(policy, 99, 999), snapshotDue(policy, 100, 0), snapshotDue(policy, 1, 1000), snapshotDue(policy, 0, 5000)]).toEqual(
      [false, true, true, false],
    );
    expect(snapshotDue({ ...policy, snapshotEveryEntries: null }, 1e6, 1e9)).toBe(false);
    expect([compactionPoint(policy, 100, 0), compactionPoint(policy, 5, 0), compactionPoint(policy, 100, 95)]).toEqual([90, 0, 95]);
  });
});
