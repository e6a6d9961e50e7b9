import { describe, expect, it } from 'vitest';
import { withResource, type ScopeEnd } from '../../../harness/run/scope.js';

describe('withResource (acquire → use → release, whatever happens)', () => {
  it('a body that completes: released once as completed, its value returned', async () => {
    const released: ScopeEnd[] = [];
    const value = await withResource(
      'r',
      async (r) => `${r}-used`,
      (_, end) => {
        released.push(end);
      },
      () => {
        throw new Error('not called');
      },
    );
    expect(value).toBe('r-used');
    expect(released).toEqual(['completed']);
  });

  it("a body that fails: released once as failed, the body's error rethrown", async () => {
    const released: ScopeEnd[] = [];
    const run = withResource(
      'r',
      async () => {
        throw new Error('body broke');
      },
      (_, end) => {
        released.push(end);
      },
      () => undefined,
    );
    await expect(run).rejects.toThrow('body broke');
    expect(released).toEqual(['failed']);
  });

  it("a failing release after a failed body is reported, and the body's error is the one thrown", async () => {
    const reported: unknown[] = [];
    const run = withResource(
      'r',
      async () => {
        throw new Error('body broke');
      },
      () => {
        throw new Error('release broke');
      },
      (e) => reported.push(e),
    );
    await expect(run).rejects.toThrow('body broke');
    expect(reported.map((e) => (e as Error).message)).toEqual(['release broke']);
  });

  it('a failing release after a completed body fails the scope', async () => {
    const reported: unknown[] = [];
    const run = withResource(
      'r',
      async () => 1,
      async () => {
        throw new Error('release broke');
      },
      (e) => reported.push(e),
    );
    await expect(run).rejects.toThrow('release broke');
    expect(reported).toEqual([]);
  });
});
