/** How test clients write a history's integers to a register and read them back (checker/values.ts). */
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../node/kv/command.js';
import { maxEntryDataBytes } from '../../node/transport/codec.js';
import { largeValues, plainValues, valueForm } from '../../checker/values.js';

const MAX_VALUE_BYTES = 8192;

describe('value forms', () => {
  it('plain values are the digits, read back as integers; anything else is kept, briefly, as a value nobody wrote', () => {
    expect(plainValues.text(42)).toBe('42');
    expect(plainValues.value('42')).toBe(42);
    expect(plainValues.value(null)).toBeNull();
    expect(plainValues.value('x7')).toBe('x7');
    expect(plainValues.value('y'.repeat(100))).toBe(`"${'y'.repeat(24)}"... (100 chars)`);
    expect(valueForm('plain', MAX_VALUE_BYTES)).toBe(plainValues);
  });

  it('large values fill the limit, read back exactly, and a damaged one reads as a value nobody wrote', () => {
    const form = valueForm('large', MAX_VALUE_BYTES);
    expect(form.name).toBe('large');
    const storedSizes: number[] = [];
    for (let v = 1; v <= 50; v++) {
      const text = form.text(v);
      expect(Buffer.byteLength(text, 'utf8'), `value ${v}`).toBeLessThanOrEqual(MAX_VALUE_BYTES);
      expect(form.value(text)).toBe(v);
      if (text.length > 10) {
        expect(Buffer.byteLength(text, 'utf8'), `value ${v}`).toBeGreaterThan(MAX_VALUE_BYTES - 4);
        expect(typeof form.value(text.slice(0, -1)), `value ${v} cut short`).toBe('string');
        expect(typeof form.value(text.slice(0, -1) + 'z'), `value ${v} changed`).toBe('string');
      }
      storedSizes.push(Buffer.byteLength(JSON.stringify(text), 'utf8'));
    }
    expect(form.value(null)).toBeNull();
    expect(form.value('10')).toBe(10); // one value in five stays plain
    expect(form.value('12')).toBe('12'); // 12 is written padded: its bare digits are not what a client wrote
    // Some values' stored form is several times their size: a cas of two of them is more than one entry carries.
    const op = { type: 'cas' as const, key: 'k0', expected: form.text(1), value: form.text(6) };
    const stored = Buffer.byteLength(encodeCommand({ clientId: 'c0', instance: 1, seq: 1, op }), 'utf8');
    expect(stored).toBeGreaterThan(maxEntryDataBytes('sim'));
    expect(Math.max(...storedSizes)).toBeGreaterThan(5 * MAX_VALUE_BYTES);
    expect(largeValues(100).text(1)).toBe('1|' + '\u0001'.repeat(98));
  });
});
