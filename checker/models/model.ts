// The model interface. A model is a pure sequential specification: the
// checker asks whether some order of the history's ops, respecting real time,
// is a legal run of it (Herlihy & Wing's linearizability). Adding a model
// (a set, a mutex, a counter) is one file in checker/models/ plus one line in
// checker/models/registry.ts.

/** An op as a model sees it: `f`, the invoke's value, and the `ok` completion's value. */
export interface ModelOp {
  readonly f: string;
  /** The invoke's value (`read`/`get`: null; `cas`: `[expected, new]`). */
  readonly input: unknown;
  /** The `ok` completion's value, or `undefined` when the outcome is unknown (`info` / never completed). */
  readonly output: unknown;
}

/**
 * What an op does, in a form the search can evaluate on interned state ids
 * without calling `step` (an optional fast path; `step` stays the reference):
 * - `guard`: legal iff the state equals `require`; the state is unchanged (a read);
 * - `set`: always legal; the state becomes `to` (a write);
 * - `guard-set`: legal iff the state equals `require`; it becomes `to` (a cas that returned ok);
 * - `general`: call `step`.
 */
export type OpShape<S> =
  { kind: 'guard'; require: S } | { kind: 'set'; to: S } | { kind: 'guard-set'; require: S; to: S } | { kind: 'general' };

export interface Model<S> {
  readonly name: string;
  /** The `f` names this model understands; used to infer the model and to reject unknown ops. */
  readonly fs: readonly string[];
  /** Ops with no effect on the state: when their outcome is unknown they are dropped before the search. */
  readonly readOnlyFs: readonly string[];
  init(): S;
  /**
   * Checks the shape of one line's `value` (`type` is the line's type).
   * Returns an error message, or null when the shape is fine.
   */
  validate(f: string, type: 'invoke' | 'ok' | 'fail' | 'info', value: unknown): string | null;
  /**
   * Applies `op` to `state`. Returns the new state, or `undefined` when the
   * op cannot take effect in `state` with the recorded output. Must be pure:
   * states are shared by the cache and the undo stack. With an unknown output
   * (`op.output === undefined`) it must be total: an op whose precondition
   * fails simply has no effect (a crashed cas that did not match).
   */
  step(state: S, op: ModelOp): S | undefined;
  /**
   * A 32-bit hash of a state, consistent with `equal`. The search interns
   * states to small integers through `hash` and `equal`, so these are called
   * once per new transition, never per cache lookup.
   */
  hash(state: S): number;
  /** Whether two states are the same (structural equality). */
  equal(a: S, b: S): boolean;
  /** Optional fast path: the op's shape; must agree with `step`. */
  shape?(op: ModelOp): OpShape<S>;
  /**
   * Optional: a key such that two ops with equal keys have the same `step`
   * function (the same effect and legality in every state), e.g. two writes
   * of one value. The search tries only one op of such a class at a time
   * (symmetry reduction, see checker/search/wgl.ts).
   */
  stepKey?(op: ModelOp): string;
  /** JSON-friendly rendering of a state for reports. */
  describeState(state: S): unknown;
  /** Short text for an op, e.g. `cas [1,2]` or `read -> 3`. */
  describeOp(op: ModelOp): string;
  /** Why `step(state, op)` is illegal, for counterexamples. */
  explainIllegal(state: S, op: ModelOp): string;
}

/** Compact, stable rendering of a JSON value in messages. */
export function show(v: unknown): string {
  if (v === undefined) return '?';
  return JSON.stringify(v) ?? String(v);
}

/** FNV-1a over UTF-16 code units, as a signed 32-bit integer. */
export function hashString(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
