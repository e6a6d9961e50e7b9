/**
 * The simulator's record of the peer datagrams each node accepted (the
 * check that no replay gets through the transport): the same membership as
 * the set of MAC strings it replaced, datagram for datagram.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAC_BYTES } from '../../node/transport/codec.js';
import { AcceptedMacs } from '../../sim/simulator.js';

describe('AcceptedMacs', () => {
  it('a second datagram with the same MAC (the same object or a copy) is refused; others are added', () => {
    const a = Buffer.concat([Buffer.from('header a'), Buffer.alloc(MAC_BYTES, 7)]);
    const sameWord = Buffer.concat([Buffer.from('header b, longer'), Buffer.alloc(4, 7), Buffer.alloc(MAC_BYTES - 4, 8)]);
    const seen = new AcceptedMacs();
    expect(seen.add(a)).toBe(true);
    expect(seen.add(a)).toBe(false);
    expect(seen.add(Buffer.from(a))).toBe(false);
    // The same first word of the MAC, another MAC: added, and then refused in its turn.
    expect(seen.add(sameWord)).toBe(true);
    expect(seen.add(Buffer.from(sameWord))).toBe(false);
    expect(seen.add(a)).toBe(false);
  });

  it('agrees with a set of MAC strings on any sequence of datagrams', () => {
    const mac = fc.uint8Array({ minLength: MAC_BYTES, maxLength: MAC_BYTES });
    // Few distinct words and MACs, so that equal words and equal MACs both happen.
    const datagram = fc
      .tuple(
        fc.uint8Array({ maxLength: 8 }),
        fc.constantFrom(0, 1, 2),
        mac.map((m) => m[0]! % 3),
      )
      .map(([head, word, tail]) => Buffer.concat([Buffer.from(head), Buffer.alloc(4, word), Buffer.alloc(MAC_BYTES - 4, tail)]));
    // Shorter than a MAC: the whole datagram is the key (as the string set's toString of a negative offset had it).
    const short = fc.uint8Array({ maxLength: 3 }).map((bytes) => Buffer.from(bytes));
    // And distinct MACs past the first growth of the word array (64).
    const distinct = fc
      .nat()
      .map((n) => Buffer.concat([Buffer.from('h'), Buffer.alloc(MAC_BYTES - 4, 9), Buffer.from([n & 0xff, (n >> 8) & 0xff, 1, 2])]));
    fc.assert(
      fc.property(fc.array(fc.oneof(datagram, short, distinct), { maxLength: 300 }), (datagrams) => {
        const seen = new AcceptedMacs();
        const strings = new Set<string>();
        for (const d of datagrams) {
          const key = d.toString('latin1', Math.max(0, d.length - MAC_BYTES));
          expect(seen.add(d)).toBe(!strings.has(key));
          strings.add(key);
        }
      }),
    );
  });
});
