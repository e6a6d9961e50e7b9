/**
 * Reading a nemesis op's value from its wire form ({f, value}, as schedules,
 * test.json and histories hold it) into a kind's typed op. Each kind decodes
 * its own ops once, where the runner takes an event; nothing after that
 * point re-checks an `unknown`.
 */

/** The wire form of one scheduled event. */
export interface NemesisEvent {
  atMs: number;
  f: string;
  value: unknown;
}

/** A field of an object value, or undefined. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** A finite number field in [min, max], or an error naming it. */
export function numberField(value: unknown, name: string, min: number, max: number): number {
  const v = field(value, name);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new Error(`bad ${name} ${JSON.stringify(v)} (expected a number in [${min}, ${max}])`);
  return v;
}

/** A string field that is one of `allowed`, or an error naming it (`what`, default the field's name). */
export function oneOfField<T extends string>(value: unknown, name: string, allowed: readonly T[], what = name): T {
  const v = field(value, name);
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Error(`bad ${what} ${JSON.stringify(v)} (expected one of ${allowed.join(', ')})`);
  }
  return v as T;
}
