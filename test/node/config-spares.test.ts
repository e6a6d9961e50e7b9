/**
 * The config file's spare identities (issue 18, README "Membership"): the
 * address book is `nodes` then `spareNodes`; an identity or an address is
 * used once across both; the bootstrap configuration is `nodes` alone, so
 * listing spares never changes it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, peerAddress, validateConfig } from '../../node/config.js';
import { addressBook } from '../../node/config-types.js';
import { raftConfigFor } from '../../node/host.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';

const base = {
  cluster: 'spares',
  peerSecret: 'spares-peer-secret-0123456789',
  clientSecret: 'spares-client-secret-0123456789',
  dataDir: '/tmp/spares-never-written',
  nodes: [
    { id: 'n1', host: '127.0.0.1', port: 7001 },
    { id: 'n2', host: '127.0.0.1', port: 7002 },
    { id: 'n3', host: '127.0.0.1', port: 7003 },
  ],
};

describe('spareNodes (issue 18)', () => {
  it('absent: the address book is the nodes', () => {
    const config = validateConfig(base, '/');
    expect(config.spareNodes).toBeUndefined();
    expect(addressBook(config).map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
  });

  it('spares join the address book (and routes may name them) but not the bootstrap configuration', () => {
    const config = validateConfig(
      { ...base, spareNodes: [{ id: 'n4', host: '127.0.0.1', port: 7004 }], routes: { n1: { n4: '127.0.0.1:9104' } } },
      '/',
    );
    expect(addressBook(config).map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(peerAddress(config, 'n1', 'n4')).toEqual({ host: '127.0.0.1', port: 9104 });
    expect(peerAddress(config, 'n2', 'n4')).toEqual({ host: '127.0.0.1', port: 7004 });
    expect(raftConfigFor('n1', config, noUnsafeFlags).peers).toEqual(['n1', 'n2', 'n3']);
    // A joiner is in no bootstrap configuration: it starts with none of its own.
    const joiner = raftConfigFor('n4', config, noUnsafeFlags, true);
    expect(joiner.joining).toBe(true);
    expect(joiner.peers).toEqual(['n4']);
  });

  it.each([
    [{ spareNodes: [{ id: 'n1', host: '127.0.0.1', port: 7009 }] }, /spareNodes\[0\]\.id "n1" is used twice/],
    [{ spareNodes: [{ id: 'n4', host: '127.0.0.1', port: 7001 }] }, /spareNodes\[0\] address 127\.0\.0\.1:7001 is used twice/],
    [{ spareNodes: {} }, /"spareNodes" must be an array/],
    [{ spareNodes: [{ id: 'bad id', host: 'h', port: 1 }] }, /spareNodes\[0\]\.id must match/],
    [{ spareNodes: Array.from({ length: 18 }, (_, i) => ({ id: `s${i}`, host: 'h', port: 8000 + i })) }, /at most 17/],
  ])('refuses %j', (extra, message) => {
    expect(() => validateConfig({ ...base, ...extra }, '/')).toThrow(ConfigError);
    expect(() => validateConfig({ ...base, ...extra }, '/')).toThrow(message);
  });
});
