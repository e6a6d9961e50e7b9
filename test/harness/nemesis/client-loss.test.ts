/**
 * The client-loss kind (kinds/client-loss.ts) as data and as a nemesis over a
 * fake cluster: its ops' wire form, its drawn cycles, and the rates it sets on
 * the client links (net/client-relay.test.ts drops real datagrams).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientLoss, clientLossDirections, defaultClientLossPct, type ClientLossOp } from '../../../harness/nemesis/kinds/client-loss.js';
import { packetFaultsCleared } from '../../../harness/nemesis/kinds/packet.js';
import { decodeNemesisOp, kindOf } from '../../../harness/nemesis/registry.js';
import type { ScheduleOptions } from '../../../harness/nemesis/schedule.js';
import { FakeCluster, fakeContext } from './fake-cluster.js';

const base: ScheduleOptions = { kinds: ['client-loss'], timeLimitMs: 10_000, intervalMs: 1000, nodeCount: 3, partitionShapes: [] };

describe('client-loss: ops', () => {
  it('decodes its start and stop ops, and refuses bad values', () => {
    expect(kindOf('start-client-loss')).toBe('client-loss');
    expect(kindOf('stop-client-loss')).toBe('client-loss');
    expect(decodeNemesisOp('start-client-loss', { rate: 0.3, direction: 'replies' })).toEqual({
      kind: 'client-loss',
      f: 'start-client-loss',
      value: { rate: 0.3, direction: 'replies' },
    });
    expect(decodeNemesisOp('stop-client-loss', null)).toEqual({ kind: 'client-loss', f: 'stop-client-loss', value: null });
    expect(() => decodeNemesisOp('start-client-loss', { rate: 1.5, direction: 'replies' })).toThrow(/rate/);
    expect(() => decodeNemesisOp('start-client-loss', { rate: 0.3, direction: 'requests' })).toThrow(/direction/);
    expect(() => decodeNemesisOp('start-client-loss', { rate: 0.3 })).toThrow(/direction/);
    expect(() => decodeNemesisOp('start-client-loss', null)).toThrow();
  });

  it('draws replies-only cycles at default rates, and the directions and rates it is given', () => {
    const rates = (opts: ScheduleOptions): readonly (readonly [ClientLossOp, ClientLossOp])[] =>
      fc.sample(clientLoss.cycle(opts), { numRuns: 200, seed: 11 });
    const defaults = rates(base);
    for (const [start, stop] of defaults) {
      expect(stop.f).toBe('stop-client-loss');
      if (start.f !== 'start-client-loss') throw new Error(`a cycle starts with ${start.f}`);
      expect(start.value.direction).toBe('replies');
      expect(start.value.rate).toBeGreaterThanOrEqual(defaultClientLossPct.min / 100);
      expect(start.value.rate).toBeLessThanOrEqual(defaultClientLossPct.max / 100);
    }
    const both = rates({ ...base, clientLossPct: { min: 60, max: 60 }, clientLossDirections: ['replies', 'both'] });
    const directions = new Set(both.map(([s]) => (s.f === 'start-client-loss' ? s.value.direction : null)));
    expect([...directions].sort()).toEqual([...clientLossDirections].sort());
    expect(both.every(([s]) => s.f === 'start-client-loss' && s.value.rate === 0.6)).toBe(true);
  });

  it('validate refuses rates and directions it cannot draw from', () => {
    expect(() => clientLoss.validate?.({ ...base, clientLossPct: { min: 50, max: 20 } })).toThrow(/clientLossPct/);
    expect(() => clientLoss.validate?.({ ...base, clientLossPct: { min: 0, max: 101 } })).toThrow(/clientLossPct/);
    expect(() => clientLoss.validate?.({ ...base, clientLossDirections: ['sideways' as never] })).toThrow(/direction/);
    expect(() => clientLoss.validate?.({ ...base, clientLossPct: { min: 0, max: 100 }, clientLossDirections: ['both'] })).not.toThrow();
  });
});

describe('client-loss: the nemesis', () => {
  it('sets the reply (and, both ways, the request) loss on the client links, and zeroes it on stop and heal', async () => {
    const cluster = new FakeCluster(3);
    const nemesis = clientLoss.create(fakeContext(cluster, 1));
    expect(await nemesis.invoke({ kind: 'client-loss', f: 'start-client-loss', value: { rate: 0.4, direction: 'replies' } })).toEqual({
      rate: 0.4,
      direction: 'replies',
    });
    expect(cluster.clientNet?.clientLoss()).toEqual({ replies: 0.4, requests: 0 });
    expect(nemesis.active()).toEqual(['client-loss 40%']);
    await nemesis.invoke({ kind: 'client-loss', f: 'start-client-loss', value: { rate: 0.25, direction: 'both' } });
    expect(cluster.clientNet?.clientLoss()).toEqual({ replies: 0.25, requests: 0.25 });
    expect(nemesis.active()).toEqual(['client-loss 25% both ways']);
    expect(await nemesis.invoke({ kind: 'client-loss', f: 'stop-client-loss', value: null })).toEqual({ stopped: 'client-loss' });
    expect(cluster.clientNet?.clientLoss()).toEqual({ replies: 0, requests: 0 });
    expect(nemesis.active()).toEqual([]);
    await nemesis.invoke({ kind: 'client-loss', f: 'start-client-loss', value: { rate: 0.5, direction: 'replies' } });
    expect(await nemesis.heal()).toEqual(packetFaultsCleared);
    expect(cluster.clientNet?.clientLoss()).toEqual({ replies: 0, requests: 0 });
    expect(nemesis.active()).toEqual([]);
  });

  it('without client links (clients reach the nodes directly) a start is an error for the history, and the final heal is a no-op', async () => {
    const cluster = new FakeCluster(3);
    cluster.clientNet = null;
    const nemesis = clientLoss.create(fakeContext(cluster, 2));
    await expect(
      nemesis.invoke({ kind: 'client-loss', f: 'start-client-loss', value: { rate: 0.4, direction: 'replies' } }),
    ).rejects.toThrow(/client-loss needs the client links' relay/);
    expect(nemesis.active()).toEqual([]);
    expect(await nemesis.heal()).toEqual(packetFaultsCleared);
  });
});
