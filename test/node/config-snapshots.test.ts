/**
 * The config file's snapshot transfer setting: `snapshotChunkBytes` (the
 * streamer's chunk size; absent = the node's 60 KiB) is a positive integer no
 * larger than the default, which is what fits one datagram with its envelope.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../node/config.js';
import { defaultStreamerOptions } from '../../node/snapshot/streamer.js';

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
