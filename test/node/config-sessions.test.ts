/**
 * The config file's session table bound: `maxSessions` (absent = the
 * table's default, 10,000) is a positive integer up to 1,000,000, and the
 * host's state machine takes it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../node/config.js';

const base = {
  cluster: 'sessions',
  peerSecret: 'sessions-peer-secret-0123456789',
  clientSecret: 'sessions-client-secret-0123456789',
  dataDir: '/tmp/sessions-never-written',
  nodes: [{ id: 'n1', host: '127.0.0.1', port: 7001 }],
};

describe('maxSessions', () => {
  it('absent: the table keeps its default', () => {
    expect(validateConfig(base, '/').maxSessions).toBeUndefined();
  });

  it('a positive integer up to 1,000,000', () => {
    expect(validateConfig({ ...base, maxSessions: 4 }, '/').maxSessions).toBe(4);
    expect(validateConfig({ ...base, maxSessions: 1_000_000 }, '/').maxSessions).toBe(1_000_000);
    for (const bad of [0, -1, 1.5, '4', null, 1_000_001]) {
      expect(() => validateConfig({ ...base, maxSessions: bad }, '/'), JSON.stringify(bad)).toThrow(ConfigError);
    }
    expect(() => validateConfig({ ...base, maxSessions: 0 }, '/')).toThrow(/"maxSessions" must be an integer between 1 and 1000000/);
  });
});
