// The lease in ticks (node/config-types.ts safeLeaseTicks): floor((E - 1) / clockDriftBound), the bound the model
// checker's rate-bounded clocks showed the lease must keep (test/mc/clock.test.ts: floor(E / drift) served a stale
// read); the host uses it, and lease mode is refused where no one-tick lease is safe.
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../node/config.js';
import { configDefaults, electionTicksMinOf, leaseProblem, safeLeaseTicks } from '../../node/config-types.js';
import { raftConfigFor } from '../../node/host.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';

const base = {
  cluster: 'lease-ticks',
  peerSecret: 'lease-ticks-peer-secret-0123456789',
  clientSecret: 'lease-ticks-client-secret-0123456789',
  dataDir: '/nonexistent',
  nodes: [1, 2, 3].map((i) => ({ id: `n${i}`, host: '127.0.0.1', port: 7100 + i })),
};

describe('safeLeaseTicks', () => {
  it('keeps L * drift <= E - 1 and is the largest such L', () => {
    for (let e = 1; e <= 60; e++) {
      for (const drift of [1, 1.05, 1.2, 1.5, 2, 3, 10]) {
        const l = safeLeaseTicks(e, drift);
        expect(l * drift, `E=${e} drift=${drift}`).toBeLessThanOrEqual(e - 1 + 1e-9);
        expect((l + 1) * drift, `E=${e} drift=${drift}`).toBeGreaterThan(e - 1);
      }
    }
    // The defaults: E = 15 ticks of 10 ms at drift 1.2 give 11 ticks (the thesis's E / drift gave 12, 1.2 * 12 > 14).
    expect(electionTicksMinOf(configDefaults)).toBe(15);
    expect(safeLeaseTicks(15, 1.2)).toBe(11);
  });

  it('is the lease the host gives the core', () => {
    const config = validateConfig({ ...base, readMode: 'lease' }, '/');
    expect(raftConfigFor('n1', config, noUnsafeFlags).leaseTicks).toBe(11);
    expect(raftConfigFor('n1', validateConfig(base, '/'), noUnsafeFlags).leaseTicks).toBeNull();
    // The unsafe flag still overrides it (the gate's bug).
    expect(raftConfigFor('n1', config, { ...noUnsafeFlags, leaseMs: 3000 }).leaseTicks).toBe(300);
  });

  it('refuses lease mode where no one-tick lease is safe (E - 1 < drift), with a message', () => {
    const tight = {
      ...base,
      readMode: 'lease',
      tickMs: 10,
      heartbeatIntervalMs: 10,
      electionTimeoutMsMin: 20,
      electionTimeoutMsMax: 40,
      clockDriftBound: 1.2,
    };
    expect(() => validateConfig(tight, '/')).toThrow(ConfigError);
    expect(() => validateConfig(tight, '/')).toThrow(
      /lease mode needs electionTimeoutMsMin of at least tickMs \* \(1 \+ clockDriftBound\)/,
    );
    expect(leaseProblem({ electionTimeoutMsMin: 30, tickMs: 10, clockDriftBound: 1.2 })).toBeNull();
    // The same timings in readindex mode are fine.
    expect(() => validateConfig({ ...tight, readMode: 'readindex' }, '/')).not.toThrow();
  });
});
