/**
 * Read safety, judged from the simulator's omniscient view beside the
 * linearizability checker: every read a client got an answer to returned
 * the value of the latest write committed before the read began, or of a
 * write committed while it ran (thesis §6.4: a linearizable read reflects at
 * least the state as of its start). A read served from an older state is a
 * stale read; reported with the read and the write it missed, which the
 * checker's counterexample only implies.
 *
 * "Committed" is what the nodes say: an entry is committed once some node's
 * commitIndex covers it (the invariant checker sees every change, in index
 * order). That can only be later than the true commit point (a quorum
 * storing it), so a read judged stale here is stale. The value each
 * committed entry leaves is computed by a shadow of the real state machine
 * (node/kv/state-machine.ts, sessions included, so a retried write applied
 * once is counted once), fed the committed entries in order.
 *
 * The shadow's session table has the nodes' bound. When that is smaller
 * than the default (SimOptions.maxSessions), a second, exact shadow with
 * the default table (larger than any run's number of clients: it never
 * evicts) is fed the same entries, and a command the nodes' shadow applies
 * that the exact one answered as a retry is reported: a command applied
 * twice, because its session was evicted between its first application and
 * a retry (node/kv/sessions.ts, dissertation §6.3). An open applied again
 * is none (it changes nothing), and neither is the other way round: a write
 * refused as `session_expired` was not applied.
 *
 * The check is also made on log positions, which sees more: the state a
 * node served a read from (its applied index when it answered) must include
 * every entry committed before the read began, noops included. A deposed
 * leader that answers after a new leader's noop committed has broken the
 * guarantee ReadIndex and leases exist for (thesis §6.4, §6.4.1), even when
 * no write happened to change the value it returned; correct Raft never
 * does (a current leader's commitIndex covers every committed entry once it
 * committed an entry of its term, and a deposed one cannot confirm a round
 * or hold a lease past a newer leader's election).
 */
import { plainValues, type ValueForm } from '../checker/values.js';
import type { HistoryOp } from '../checker/types.js';
import { decodeCommand } from '../node/kv/command.js';
import { KvStateMachine } from '../node/kv/state-machine.js';
import type { Entry } from '../node/raft/types.js';

interface Change {
  /** Log index of the committed entry that set the value (0: the initial empty value). */
  readonly index: number;
  readonly term: number;
  readonly value: string | null;
  /** When the simulator first saw the entry committed. */
  readonly committedAtMs: number;
  readonly data: string;
}

/** Where and from what state a node answered a read (the simulator sees the answer leave). */
export interface ServedRead {
  readonly node: string;
  /** The node's lastApplied when it answered: the state the value came from. */
  readonly appliedIndex: number;
}

interface OpenRead {
  readonly key: string;
  /** The highest committed index when the read was invoked. */
  readonly floorIndex: number;
  readonly invokedMs: number;
}

export type ReadSafetySink = (message: string) => void;

export class ReadSafety {
  private readonly shadow: KvStateMachine;
  private readonly changes = new Map<string, Change[]>();
  private readonly open = new Map<number | string, OpenRead>();
  private committedIndex = 0;
  private readonly entries: { readonly index: number; readonly term: number; readonly committedAtMs: number }[] = [];
  /** Reads judged (coverage). */
  checked = 0;
  /**
   * Set by the simulator just before it hands a client an answer to a read
   * (a one-shot handoff: the client records the ok op synchronously, and the
   * op consumes it).
   */
  served: ServedRead | null = null;

  /** A state machine that never evicts a session, when the nodes' table is bounded below the default (else null). */
  private readonly exact: KvStateMachine | null;

  constructor(
    private readonly violation: ReadSafetySink,
    /** How the clients wrote the numbers the history holds (values.ts): what a node stored for each. */
    private readonly values: ValueForm = plainValues,
    /** The nodes' session table bound, when it is not the default (SimOptions.maxSessions). */
    private readonly nodesMaxSessions: number | null = null,
    /** The nodes run `--unsafe-ignore-session-expiry` (their state machine ignores session modes): the shadow does too. */
    ignoreSessionMode = false,
  ) {
    const quiet = { log: (): void => undefined, ...(ignoreSessionMode ? { ignoreSessionMode } : {}) };
    this.shadow = new KvStateMachine(nodesMaxSessions === null ? quiet : { ...quiet, maxSessions: nodesMaxSessions });
    this.exact = nodesMaxSessions === null ? null : new KvStateMachine(quiet);
  }

  /** The next committed entry, in index order (the invariant checker's first sight of it). */
  onCommitted(entry: Entry, atMs: number): void {
    if (entry.index !== this.committedIndex + 1) return; // out of order: only after another invariant broke
    this.committedIndex = entry.index;
    this.entries.push({ index: entry.index, term: entry.term, committedAtMs: atMs });
    const decoded = entry.type === 'command' ? decodeCommand(entry.data) : null;
    const key = decoded?.ok === true ? decoded.cmd.op.key : null;
    const before = key === null ? null : this.shadow.read(key);
    const bounded = this.shadow.apply(entry);
    if (this.exact !== null) {
      const exact = this.exact.apply(entry);
      // An open applied again is the open's own retry after an eviction: it opens the session anew and changes nothing.
      const open = decoded?.ok === true && decoded.cmd.session === 'open';
      if (bounded?.kind === 'applied' && exact !== null && exact.kind !== 'applied' && !open)
        this.violation(
          `exactly-once: the command at index ${entry.index} (${entry.data}) was applied again: it is a retry of ` +
            `client ${JSON.stringify(exact.clientId)} seq ${exact.seq}, already applied, but the nodes' session table ` +
            `(bound ${this.nodesMaxSessions}) had evicted its session (node/kv/sessions.ts, dissertation §6.3)`,
        );
    }
    if (key === null) return;
    const after = this.shadow.read(key);
    if (after === before) return;
    let list = this.changes.get(key);
    if (list === undefined) {
      list = [];
      this.changes.set(key, list);
    }
    list.push({ index: entry.index, term: entry.term, value: after, committedAtMs: atMs, data: entry.data });
  }

  /** Every client history op as it is recorded: reads are opened at invoke and judged at ok. */
  onHistoryOp(op: Omit<HistoryOp, 'index' | 'time'>, atMs: number): void {
    if (op.f !== 'read' || typeof op.process !== 'number') return;
    if (op.type === 'invoke') {
      this.open.set(op.process, { key: String(op.key), floorIndex: this.committedIndex, invokedMs: atMs });
      return;
    }
    const read = this.open.get(op.process);
    this.open.delete(op.process);
    const served = this.served;
    this.served = null;
    if (op.type !== 'ok' || read === undefined) return;
    this.checked++;
    const value =
      op.value === null || op.value === undefined ? null : typeof op.value === 'number' ? this.values.text(op.value) : String(op.value);
    const problem = this.judge(read, value, atMs) ?? (served === null ? null : this.judgeServed(read, value, served, atMs));
    if (problem !== null) this.violation(`process ${op.process} ${problem}`);
  }

  /** The index form: the served state includes everything committed before the read began. */
  private judgeServed(read: OpenRead, value: string | null, served: ServedRead, returnedMs: number): string | null {
    if (served.appliedIndex >= read.floorIndex) return null;
    const missed = this.entries[read.floorIndex - 1];
    return (
      `stale read: read ${read.key} = ${value ?? 'null'} (invoked at ${read.invokedMs.toFixed(1)} ms, answered at ${returnedMs.toFixed(1)} ms) ` +
      `was served by ${served.node} from its state at index ${served.appliedIndex}, but index ${read.floorIndex}` +
      `${missed === undefined ? '' : ` (term ${missed.term}, committed at ${missed.committedAtMs.toFixed(1)} ms)`} was committed before the read began ` +
      `(the value happens to be the same; thesis §6.4: a read reflects every committed entry)`
    );
  }

  private judge(read: OpenRead, value: string | null, returnedMs: number): string | null {
    const initial: Change = { index: 0, term: 0, value: null, committedAtMs: 0, data: '' };
    const list = [initial, ...(this.changes.get(read.key) ?? [])];
    const ceiling = this.committedIndex;
    const what = `read ${read.key} = ${value ?? 'null'} (invoked at ${read.invokedMs.toFixed(1)} ms, answered at ${returnedMs.toFixed(1)} ms)`;
    let candidate: number | null = null;
    for (let j = list.length - 1; j >= 0; j--) {
      const c = list[j]!;
      if (c.value !== value || c.index > ceiling) continue;
      const next = list[j + 1];
      // The value held from c.index until the next change: it is a legal answer if that span reaches the read's start.
      if (next === undefined || next.index > read.floorIndex) return null;
      candidate ??= j;
    }
    if (candidate === null) return `${what}: no write committed by then left that value (a read of uncommitted or invented state)`;
    // The value current when the read began: the last change at or below the floor.
    let current = list[0]!;
    for (const c of list) if (c.index <= read.floorIndex) current = c;
    const old = list[candidate]!;
    return (
      `stale read: ${what}, but write ${read.key} = ${current.value ?? 'null'} (index ${current.index}, term ${current.term}, ` +
      `committed at ${current.committedAtMs.toFixed(1)} ms) had replaced it before the read began ` +
      `(the value read was written at index ${old.index}, term ${old.term}; thesis §6.4)`
    );
  }
}
