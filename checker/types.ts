// Public types of the linearizability checker. The harness calls the checker
// in-process and the HTML report renders `Counterexample`, so everything a
// caller can see is declared (and documented) here.

/** `true`: linearizable; `false`: not; `'unknown'`: the search hit the time or memory bound. */
export type Verdict = true | false | 'unknown';

/** An op type, as in Jepsen/Knossos. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/**
 * One line of a history (the corpus README's op shape, Jepsen's op map).
 * - `process`: an integer for a client; any string (e.g. `"nemesis"`) marks a
 *   non-client op, which checkers ignore.
 * - `key`: Jepsen's `independent` key. Absent/null means the single key `""`.
 * - `value`: the argument (invoke) or the result (completion): `read`/`get`
 *   invokes carry `null`; `cas` carries `[expected, new]`.
 * - `line`: the 1-based line of the input file (set by the readers; used in
 *   every error message and in counterexamples).
 */
export interface HistoryOp {
  index: number;
  time?: number;
  process: number | string;
  type: OpType;
  f: string;
  key?: string | number | null;
  value: unknown;
  error?: unknown;
  line?: number;
}

/** Names of the built-in models (checker/models/<name>.ts). */
export type ModelName = 'cas-register' | 'kv';

export interface CheckOptions {
  /** Model to check against. Inferred from the `f` names when absent. */
  model?: ModelName;
  /** Wall-clock budget for the whole search, all keys together. Exceeding it gives `'unknown'`. */
  timeLimitMs?: number;
  /** Cap on cached configurations per key (default 4,000,000). Exceeding it gives `'unknown'` (memory_limit). */
  maxCacheEntries?: number;
  /**
   * Cap on the checking process's resident memory (RSS, measured, all keys
   * and worker threads together; default 512 MiB). The search stops with
   * `'unknown'` (memory_limit) before a cache doubling would pass it, and
   * when a periodic poll finds it passed.
   */
  maxCacheBytes?: number;
  /**
   * Record, for every valid key, a linearization (KeyResult.linearization):
   * a certificate an independent verifier can replay (checker/verify.ts).
   */
  witness?: boolean;
  /**
   * Time budget in ms for shrinking each invalid key to a minimal failing
   * sub-history (KeyResult.minimal; default 2,000; 0: do not shrink).
   */
  minimizeMs?: number;
  /**
   * Use the fast paths (default true): unobserved unknown ops left out,
   * symmetry and observer reductions, model pruners, static refutations
   * (checker/fast/). False runs the plain WGL search, for comparison.
   */
  fastPaths?: boolean;
  /**
   * With the fast paths, try the plain search for a few thousand steps
   * first (default true): it decides most keys of an easy history before the
   * fast paths' preparation would have paid off. False goes straight to the
   * fast paths (the differential tests use it, so that they are exercised).
   */
  plainFirst?: boolean;
  /** Check every key even after one is found invalid (default: stop at the first invalid key). */
  allKeys?: boolean;
  /**
   * Use worker_threads for big multi-key histories (default true; only
   * `checkFile`/`checkHistoryAsync` can use them, and only when it pays off:
   * at least `workerMinOps` ops over several keys and more than one CPU).
   */
  workers?: boolean;
  /** Minimum searched ops before workers are used (default 500,000: below that, copying ops to threads costs more than it saves). */
  workerMinOps?: number;
  /**
   * EDN only: whether op values are Jepsen `independent` `[key value]` tuples.
   * `'auto'` (default): yes when every client op's value is a 2-element vector.
   */
  independent?: boolean | 'auto';
}

/** Why a verdict is `'unknown'`. */
export type UnknownReason = 'time_limit' | 'memory_limit';

/** One step of the longest linearizable prefix. */
export interface LinearizedStep {
  /** The op (its invoke line, with `value` the invoke's argument); see `Counterexample.op`. */
  op: CheckedOp;
  /** Model state right after this op took effect (described by the model, JSON-friendly). */
  stateAfter: unknown;
}

/**
 * A client op as the checker sees it: invoke and completion merged.
 * `input` is the invoke's value; `output` the `ok` completion's value, or
 * `undefined` when the outcome is unknown (`info`, or no completion).
 */
export interface CheckedOp {
  /** The invoke line (original `index`, `line`, `process`, `f`, `value`). */
  invoke: HistoryOp;
  /** The completion line, absent when the op never completed. */
  completion?: HistoryOp;
  /** `'ok'` or `'info'` (fail ops never reach the search). */
  outcome: 'ok' | 'info';
  /** Human-readable description, e.g. `cas [1,2] -> ok` or `read -> 3`. */
  description: string;
}

/**
 * Why a key is not linearizable, in Knossos' spirit: the search's deepest
 * configuration (the longest linearizable prefix it could build), the op
 * whose return blocked it there, and every op that was a candidate to be
 * linearized next, with the reason each did not lead to a linearization.
 */
export interface Counterexample {
  key: string;
  /** The op that could not be linearized: the first op whose completion was still pending at the deepest configuration. */
  op: CheckedOp;
  /** The longest linearizable prefix found, in linearization order. */
  linearized: LinearizedStep[];
  /** Model state after the prefix, i.e. the state `op` and the candidates had to apply to. */
  stateBefore: unknown;
  /** Ops that could have been linearized next (concurrent with `op`, including `op`), and why each failed. */
  candidates: { op: CheckedOp; reason: string }[];
}

/**
 * A failing sub-history small enough to read: the key's ops, some removed
 * and some with their completion dropped (made "outcome unknown"), such that
 * it is still not linearizable. Only changes that cannot turn a
 * linearizable history into a non-linearizable one are made (removing a
 * read; dropping a completion; removing an op whose effect no remaining op
 * could observe), so this sub-history failing proves the whole key fails.
 * `npm run check -- --verify` re-checks both facts independently.
 */
export interface MinimalCounterexample {
  /** In invoke order. `completionDropped`: the op's completion (still shown in `op`) was dropped. */
  ops: { op: CheckedOp; completionDropped: boolean }[];
  /** True when removing any one more op, or dropping any one more completion, makes it linearizable. */
  oneMinimal: boolean;
  /** Sub-histories checked while shrinking. */
  checks: number;
}

export interface KeyResult {
  valid: Verdict;
  /** Client ops of this key that reached the search (fail ops and info reads are dropped). */
  opCount: number;
  searchMs: number;
  /** Configurations stored in the cache. */
  cacheEntries: number;
  counterexample?: Counterexample;
  /** For an invalid key (unless minimizeMs is 0): a minimal failing sub-history. */
  minimal?: MinimalCounterexample;
  /** With `witness`, for a valid key: the invoke `index` of each op in a linearization, in order (ops left out never took effect). */
  linearization?: number[];
  /** Unknown-outcome ops left out of the search because nothing observes their effect (checker/fast/). */
  unobservedInfoOps?: number;
  /** Set when a near-linear necessary condition refuted the key before any search (checker/fast/). */
  refutation?: string;
  unknownReason?: UnknownReason;
}

export interface CheckResult {
  valid: Verdict;
  /** Model used (given or inferred). */
  model: string;
  /** Lines/ops in the history (all processes). */
  opCount: number;
  /** Client invokes. */
  clientOpCount: number;
  keyCount: number;
  /** Wall time spent in the search (excludes reading and parsing). */
  searchMs: number;
  /** Worker threads used for the search (0: searched in the calling thread). */
  workers: number;
  /**
   * Per key (`""` for the single register). Keys never searched (early stop)
   * are absent. A record without a prototype (keyedRecord): a history's key
   * may be any string, `__proto__` included.
   */
  keys: Record<string, KeyResult>;
  /** Keys found not linearizable. */
  failures: string[];
  /** Keys whose verdict is unknown (includes keys skipped because the time ran out). */
  unknownKeys: string[];
  unknownReason?: UnknownReason;
}

/** Malformed input. `line` is the 1-based line number in the input (0 when not tied to a line). */
export class HistoryFormatError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.name = 'HistoryFormatError';
    this.line = line;
  }
}

/**
 * An empty record for keys that come from input (a history's keys, an EDN
 * map's): without a prototype, so that `__proto__` is an ordinary own key.
 * In a `{}`, `r["__proto__"] = v` sets the prototype instead: a history's
 * results for the key `__proto__` vanished from Object.entries, and a
 * history not linearizable on that key was judged VALID (found by a probe,
 * 2026-12-07).
 */
export function keyedRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
