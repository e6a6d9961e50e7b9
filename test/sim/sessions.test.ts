/**
 * Simulated runs whose nodes keep fewer sessions than the run has clients
 * (SimOptions.maxSessions): sessions are evicted while their owners still
 * retry. With sessions opened implicitly, a write retried after its
 * session's eviction is applied a second time (the read-safety judge's
 * exactly-once check names it); with sessions opened explicitly
 * (ClientRequest.session, as node/client.ts does) such a retry is refused as
 * `session_expired` and never applied.
 *
 * Seeds: fixed, or RIFT_SIM_SEED for the campaigns; replay a failure with
 * `npm run sim -- --seed S --path P --max-sessions 1 [--open-sessions]`.
 */
import { describe, expect, it } from 'vitest';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions } from '../../sim/scenario.js';

const override = process.env['RIFT_SIM_SEED'] === undefined ? null : Number(process.env['RIFT_SIM_SEED']);

describe('a session table smaller than the number of clients', () => {
  it('sessions opened implicitly: a campaign finds a write applied twice (the limit explicit sessions remove)', async () => {
    const seed = override ?? 76001;
    const options = { ...defaultSimOptions, maxSessions: 1 };
    const result = await campaign(options, { numRuns: 60, seed, maxShrinks: 0 });
    expect(result.failed, `seed ${seed}: no violation in 60 runs`).toBe(true);
    const judged = await judge(result.counterexample!, options);
    expect(describeViolations(judged.violations)).toMatch(/exactly-once: the command at index \d+ .* was applied again/);
    // The same scenario with sessions opened explicitly: no violation.
    const explicit = await judge(result.counterexample!, { ...options, clientOpensSessions: true });
    expect(explicit.violations, describeViolations(explicit.violations)).toEqual([]);
  });

  it('sessions opened explicitly: no violation in 60 runs', async () => {
    const seed = override ?? 76001;
    const result = await campaign(
      { ...defaultSimOptions, maxSessions: 1, clientOpensSessions: true },
      { numRuns: 60, seed, maxShrinks: 8 },
    );
    expect(result.failed, `replay: npm run sim -- --seed ${seed} --path ${result.path} --max-sessions 1 --open-sessions`).toBe(false);
  });
});
