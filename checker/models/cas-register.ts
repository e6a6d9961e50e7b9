// Knossos' cas-register (knossos/model.clj), starting at null: `write v`
// sets it, `cas [a, b]` sets it to b only if it holds a, `read` returns it.
// Values are any JSON; equality is structural (via valueKey).
import { hashString, show, type Model, type ModelOp } from './model.js';

export type RegisterState = unknown;

/**
 * JSON text of a value with every object's members in sorted order. JSON
 * objects are unordered (RFC 8259), and so are Clojure's maps (Knossos, and
 * our EDN reader's maps): `{"a":1,"b":2}` and `{"b":2,"a":1}` are one value.
 * Keyed by plain JSON.stringify they were two, and a read of the one after a
 * write of the other was judged not linearizable (found by a probe;
 * test/checker/metamorphic.test.ts reorders members to keep it so).
 */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const o = v as Record<string, unknown>;
  return (
    '{' +
    Object.keys(o)
      .sort()
      .map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k]))
      .join(',') +
    '}'
  );
}

/** Canonical key of a JSON value: numbers, null and booleans as themselves, the rest tagged strings. */
export function valueKey(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return 's' + v;
  return 'j' + canonicalJson(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || valueKey(a) === valueKey(b);
}

export const casRegister: Model<RegisterState> = {
  name: 'cas-register',
  fs: ['read', 'write', 'cas'],
  readOnlyFs: ['read'],
  init: () => null,
  validate(f, type, value) {
    if (f === 'cas' && (type === 'invoke' || type === 'ok')) {
      if (!Array.isArray(value) || value.length !== 2) return `cas value must be [expected, new], got ${show(value)}`;
    }
    if (f === 'read' && type === 'invoke' && value !== null && value !== undefined) {
      return `read invoke value must be null, got ${show(value)}`;
    }
    return null;
  },
  step(state, op) {
    switch (op.f) {
      case 'read':
        if (op.output === undefined) return state;
        return sameValue(state, op.output) ? state : undefined;
      case 'write':
        return op.input;
      case 'cas': {
        const [expected, next] = op.input as [unknown, unknown];
        if (sameValue(state, expected)) return next;
        // A crashed cas whose precondition fails simply did not take effect.
        return op.output === undefined ? state : undefined;
      }
      default:
        return undefined;
    }
  },
  hash(s) {
    if (typeof s === 'number' && (s | 0) === s) return Math.imul(s, 0x9e3779b1);
    const k = valueKey(s);
    return k === null ? 0x5bd1e995 : hashString(String(k));
  },
  equal: sameValue,
  shape(op) {
    switch (op.f) {
      case 'read':
        return op.output === undefined ? { kind: 'general' } : { kind: 'guard', require: op.output };
      case 'write':
        return { kind: 'set', to: op.input };
      case 'cas': {
        const [expected, next] = op.input as [unknown, unknown];
        return op.output === undefined ? { kind: 'general' } : { kind: 'guard-set', require: expected, to: next };
      }
      default:
        return { kind: 'general' };
    }
  },
  stepKey(op) {
    const k = (v: unknown): string => JSON.stringify(valueKey(v));
    switch (op.f) {
      case 'read':
        // Unknown-outcome reads never reach the search; keep them apart anyway.
        return op.output === undefined ? 'r?' : 'r' + k(op.output);
      case 'write':
        return 'w' + k(op.input);
      case 'cas': {
        const [expected, next] = op.input as [unknown, unknown];
        // An ok cas is illegal on a mismatch; an unknown one has no effect there.
        return (op.output === undefined ? 'C' : 'c') + k(expected) + ',' + k(next);
      }
      default:
        return '?' + op.f;
    }
  },
  describeState: (s) => s,
  describeOp(op: ModelOp) {
    const out = op.output === undefined ? ' -> ?' : '';
    switch (op.f) {
      case 'read':
        return `read -> ${show(op.output)}`;
      case 'write':
        return `write ${show(op.input)}${out}`;
      case 'cas':
        return `cas ${show(op.input)}${out}`;
      default:
        return `${op.f} ${show(op.input)}`;
    }
  },
  explainIllegal(state, op) {
    switch (op.f) {
      case 'read':
        return `read ${show(op.output)} but the register holds ${show(state)}`;
      case 'cas':
        return `cas expected ${show((op.input as unknown[])[0])} but the register holds ${show(state)}`;
      default:
        return `${op.f} is not a cas-register op`;
    }
  },
};
