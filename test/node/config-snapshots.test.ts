/**
 * The config file's transfer settings: `snapshotChunkBytes` (the streamer's
 * chunk size; absent = the node's 60 KiB) and `maxAppendBytes` (entries per
 * AppendEntries; absent = 48 KiB) are positive integers no larger than their
 * defaults, which are what fits one datagram with its envelope.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../node/config.js';
import { defaultMaxAppendBytes } from '../../node/config-types.js';
import { raftConfigFor } from '../../node/host.js';
import { defaultStreamerOptions } from '../../node/snapshot/streamer.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';

const base = {
  cluster: 'chunks',
  peerSecret: 'chunks-peer-secret-0123456789',
  clientSecret: 'chunks-client-secret-0123456789',
  dataDir: '/tmp/chunks-never-written',
  nodes: [
    { id: 'n1', host: '127.0.0.1', port: 7001 },
    { id: 'n2', host: '127.0.0.1', port: 7002 },
    { id: 'n3', host: '127.0.0.1', port: 7003 },
  ],
};

describe('snapshotChunkBytes', () => {
  it('absent: the node streams in its default chunks', () => {
    expect(validateConfig(base, '/').snapshotChunkBytes).toBeUndefined();
  });

  it('a positive integer up to the default chunk size', () => {
    expect(validateConfig({ ...base, snapshotChunkBytes: 128 }, '/').snapshotChunkBytes).toBe(128);
    expect(validateConfig({ ...base, snapshotChunkBytes: defaultStreamerOptions.chunkBytes }, '/').snapshotChunkBytes).toBe(61_440);
    for (const bad of [0, -1, 1.5, '128', defaultStreamerOptions.chunkBytes + 1]) {
      expect(() => validateConfig({ ...base, snapshotChunkBytes: bad }, '/'), JSON.stringify(bad)).toThrow(ConfigError);
    }
    expect(() => validateConfig({ ...base, snapshotChunkBytes: 70_000 }, '/')).toThrow(
      /"snapshotChunkBytes" must be an integer between 1 and 61440/,
    );
  });
});

describe('maxAppendBytes (etcd MaxSizePerMsg)', () => {
  it('absent: the default batch; a positive integer up to it; the core gets it (raftConfigFor)', () => {
    expect(validateConfig(base, '/').maxAppendBytes).toBeUndefined();
    expect(raftConfigFor('n1', validateConfig(base, '/'), noUnsafeFlags).maxAppendBytes).toBe(defaultMaxAppendBytes);
    const one = validateConfig({ ...base, maxAppendBytes: 1 }, '/');
    expect(one.maxAppendBytes).toBe(1);
    expect(raftConfigFor('n1', one, noUnsafeFlags).maxAppendBytes).toBe(1);
    expect(validateConfig({ ...base, maxAppendBytes: defaultMaxAppendBytes }, '/').maxAppendBytes).toBe(49_152);
    for (const bad of [0, -1, 1.5, '128', defaultMaxAppendBytes + 1]) {
      expect(() => validateConfig({ ...base, maxAppendBytes: bad }, '/'), JSON.stringify(bad)).toThrow(ConfigError);
    }
    expect(() => validateConfig({ ...base, maxAppendBytes: 65_507 }, '/')).toThrow(
      /"maxAppendBytes" must be an integer between 1 and 49152/,
    );
  });
});
