import { describe, expect, it } from 'vitest';
import { AddressValidator, TOKEN_BUCKET_MS, VALIDATED_TTL_MS } from '../../../node/transport/address-validation.js';

const T0 = 1_700_000_000_000;

describe('AddressValidator', () => {
  it('a token is bound to its address and to a time bucket (valid in it and the next)', () => {
    const v = new AddressValidator({ tokenKey: Buffer.alloc(32, 1) });
    const token = v.tokenFor('10.0.0.5:4000', T0);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(v.admit('10.0.0.6:4000', token, T0)).toBe(false);
    expect(v.admit('10.0.0.5:4001', token, T0)).toBe(false);
    expect(v.admit('10.0.0.5:4000', 'AAAAAAAAAAAAAAAAAAAAAA', T0)).toBe(false);
    expect(v.admit('10.0.0.5:4000', undefined, T0)).toBe(false);
    expect(v.admit('10.0.0.5:4000', token, T0 + 2 * TOKEN_BUCKET_MS + 1)).toBe(false);
    expect(v.admit('10.0.0.5:4000', token, T0 + TOKEN_BUCKET_MS)).toBe(true);
  });

  it('another node (another key) does not take the token', () => {
    const a = new AddressValidator({ tokenKey: Buffer.alloc(32, 1) });
    const b = new AddressValidator({ tokenKey: Buffer.alloc(32, 2) });
    expect(b.admit('10.0.0.5:4000', a.tokenFor('10.0.0.5:4000', T0), T0)).toBe(false);
  });

  it('remembers a validated address for a while after its last request, within a bounded table', () => {
    const v = new AddressValidator({ tokenKey: Buffer.alloc(32, 1), maxAddresses: 2 });
    const admit = (address: string, nowMs: number): boolean => v.admit(address, v.tokenFor(address, nowMs), nowMs);
    expect(admit('a:1', T0)).toBe(true);
    expect(v.admit('a:1', undefined, T0 + 1000)).toBe(true); // no token needed now
    expect(v.isValidated('a:1', T0 + 1000 + VALIDATED_TTL_MS - 1)).toBe(true);
    expect(v.isValidated('a:1', T0 + 1000 + VALIDATED_TTL_MS)).toBe(false);
    expect(admit('b:1', T0 + 2000)).toBe(true);
    expect(admit('c:1', T0 + 3000)).toBe(true); // evicts a:1, the least recently used
    expect(v.size).toBe(2);
    expect(v.isValidated('a:1', T0 + 3000)).toBe(false);
    expect(v.isValidated('b:1', T0 + 3000)).toBe(true);
  });

  it('the amplification limit is 3x', () => {
    expect(AddressValidator.withinLimit(100, 300)).toBe(true);
    expect(AddressValidator.withinLimit(100, 301)).toBe(false);
  });
});
