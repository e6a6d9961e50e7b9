// MIT 6.824's key/value service, one string per key (the history is split by
// key first), initially "": `put v` sets it, `append v` concatenates, `get`
// returns it. A `get` that returns null means "absent", which is "".
//
// The state carries a polynomial hash of its string, updated in O(|v|) per
// append, so interning a state never rehashes a long concatenated string.
import { show, type Model, type ModelOp } from './model.js';

export interface KvState {
  readonly v: string;
  /** Polynomial hash of `v` (base HASH_BASE, mod 2^32). */
  readonly h: number;
}

const HASH_BASE = 0x01000193;
/** The base of KvState.h (checker/fast/kv.ts hashes prefixes the same way). */
export const kvHashBase = HASH_BASE;

/** Hash of t, and HASH_BASE^|t|, both mod 2^32. */
function polyHash(t: string): { h: number; pow: number } {
  let h = 0;
  let pow = 1;
  for (let i = 0; i < t.length; i++) {
    h = (Math.imul(h, HASH_BASE) + t.charCodeAt(i)) | 0;
    pow = Math.imul(pow, HASH_BASE);
  }
  return { h, pow };
}

function make(v: string): KvState {
  return { v, h: polyHash(v).h };
}

export const kv: Model<KvState> = {
  name: 'kv',
  fs: ['get', 'put', 'append'],
  readOnlyFs: ['get'],
  init: () => make(''),
  validate(f, type, value) {
    if ((f === 'put' || f === 'append') && (type === 'invoke' || type === 'ok') && typeof value !== 'string') {
      return `${f} value must be a string, got ${show(value)}`;
    }
    if (f === 'get' && type === 'ok' && value !== null && typeof value !== 'string') {
      return `get result must be a string or null, got ${show(value)}`;
    }
    if (f === 'get' && type === 'invoke' && value !== null && value !== undefined) {
      return `get invoke value must be null, got ${show(value)}`;
    }
    return null;
  },
  step(state, op) {
    switch (op.f) {
      case 'get':
        if (op.output === undefined) return state;
        return state.v === ((op.output as string | null) ?? '') ? state : undefined;
      case 'put':
        return make(op.input as string);
      case 'append': {
        const t = op.input as string;
        const { h, pow } = polyHash(t);
        return { v: state.v + t, h: (Math.imul(state.h, pow) + h) | 0 };
      }
      default:
        return undefined;
    }
  },
  hash: (s) => s.h,
  equal: (a, b) => a === b || (a.h === b.h && a.v.length === b.v.length && a.v === b.v),
  shape(op) {
    if (op.f === 'get' && op.output !== undefined) return { kind: 'guard', require: make((op.output as string | null) ?? '') };
    if (op.f === 'put') return { kind: 'set', to: make(op.input as string) };
    return { kind: 'general' };
  },
  stepKey(op) {
    switch (op.f) {
      case 'get':
        return op.output === undefined ? 'g?' : 'g' + JSON.stringify((op.output as string | null) ?? '');
      case 'put':
        return 'p' + JSON.stringify(op.input);
      case 'append':
        return 'a' + JSON.stringify(op.input);
      default:
        return '?' + op.f;
    }
  },
  describeState: (s) => s.v,
  describeOp(op: ModelOp) {
    const out = op.output === undefined ? ' -> ?' : '';
    switch (op.f) {
      case 'get':
        return `get -> ${show(op.output ?? '')}`;
      default:
        return `${op.f} ${show(op.input)}${out}`;
    }
  },
  explainIllegal(state, op) {
    if (op.f === 'get') return `get returned ${show(op.output ?? '')} but the value is ${show(state.v)}`;
    return `${op.f} is not a kv op`;
  },
};
