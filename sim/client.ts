/**
 * A simulated client process speaking the node protocol as `node/client.ts`
 * does, with the same retry policy (node/client-retry.ts): one outstanding
 * op, the same (clientId, seq) on every attempt of an op, attempts time out
 * and move to the next node, `not_leader` hints are followed at once,
 * `unavailable` retries after capped exponential backoff with full jitter
 * (drawn from the client's seeded stream), and the op's deadline turns it
 * into `timeout`.
 *
 * It records the history: a timed-out read is a `fail` (reads have no
 * effect), a timed-out write or cas is `info` (it may still take effect) and
 * the process retires: the slot continues as a new process number with a new
 * clientId (Jepsen's rule; the corpus README). Written values are unique
 * integers, so the checker can tell every write apart.
 *
 * Each process is one client instance (`instance`, its generation plus one:
 * clientIds are already unique per process). A `retry` answer (address
 * validation; the simulator's client endpoint keeps the token) sends the
 * attempt again at once, as node/client.ts does.
 */
import {
  attemptWaitMs,
  awaitLeaderFor,
  backoffAfterMs,
  backoffMs,
  judgeAttempt,
  nextSuspicion,
  suspectAt,
  timedOutOpType,
  type AttemptVerdict,
  type RandomInt,
  type RetryPolicy,
  type Suspicion,
} from '../node/client-retry.js';
import type { ClientOutcome, ClientRequest, KvOp, SessionMode } from '../node/protocol.js';
import { assertNever } from '../node/util/assert.js';
import type { EventQueue, SimEvent } from './event-queue.js';
import type { History } from './history.js';
import type { WorkloadOp } from './scenario.js';
import type { Stream } from './streams.js';
import type { ValueForm } from '../checker/values.js';

export interface ClientContext {
  readonly queue: EventQueue;
  readonly history: History;
  readonly stream: Stream;
  readonly nodeIds: readonly string[];
  readonly keys: number;
  readonly opTimeoutMs: number;
  readonly retry: RetryPolicy;
  /** Ops invoked at or after this time must complete definitely (liveness after the heal, liveness.ts)... */
  readonly livenessFromMs: number;
  /** ...within this deadline (instead of opTimeoutMs). */
  readonly livenessOpTimeoutMs: number;
  /** How values are written and read back (values.ts). */
  readonly values: ValueForm;
  /**
   * Open each instance's session before its first write and send writes as
   * `existing`, as node/client.ts does (ClientRequest.session); false: every
   * command opens its session implicitly (SimOptions.clientOpensSessions).
   */
  readonly opensSessions: boolean;
  send(slot: number, to: string, request: ClientRequest): void;
  nextValue(): number;
  nextProcess(): number;
  onLivenessViolation(message: string): void;
  onDone(slot: number): void;
}

interface Current {
  readonly op: WorkloadOp;
  /** The request attempts send: the session's open first when the op must open one (`afterOpen` waits), then the op's. */
  request: ClientRequest;
  /** The op's own request, sent once `request`, the open, has succeeded; null when it is `request` already. */
  afterOpen: ClientRequest | null;
  readonly f: WorkloadOp['f'];
  readonly key: string;
  readonly value: unknown;
  readonly invokedMs: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  failures: number;
  lastError: string;
  /** The node that last let an attempt of this operation time out (node/client-retry.ts). */
  suspicion: Suspicion | null;
  timer: SimEvent | null;
  /** True while an attempt waits for its reply. */
  awaiting: boolean;
  /** Resends in the current attempt after a `retry` answer. */
  resends: number;
  /** What the current attempt sent: `request`, or a copy asking to wait for a leader (awaitLeaderFor). */
  sent: ClientRequest;
  sentAtMs: number;
  /** When the current attempt was answered; null while it waits or when it timed out. */
  answeredAtMs: number | null;
}

/** As node/client.ts: a `retry` answer is followed by at most this many resends within one attempt. */
const maxResendsPerAttempt = 2;

export class SimClient {
  private process: number;
  private generation = 0;
  private clientId: string;
  private seq = 0;
  /** Whether this instance's session is open (ctx.opensSessions; node/client.ts sessionOpen). */
  private sessionOpen = false;
  private next = 0;
  private target: string;
  private current: Current | null = null;
  private probesLeft = 2;
  private readonly lastKnown = new Map<string, number | null>();
  /** The backoff jitter's source: this client's seeded stream. */
  private readonly random: RandomInt;
  done = false;
  completed = 0;
  /** When an op of this client last completed definitely (ok or fail: an answer), in simulated ms; -1 before any. */
  lastAnsweredMs = -1;

  constructor(
    readonly slot: number,
    private readonly ops: readonly WorkloadOp[],
    private readonly ctx: ClientContext,
  ) {
    this.process = ctx.nextProcess();
    this.clientId = `c${slot}`;
    this.target = ctx.nodeIds[ctx.stream.int(0, ctx.nodeIds.length - 1)]!;
    this.random = (min, max) => ctx.stream.int(min, max);
  }

  start(): void {
    this.scheduleNext();
  }

  /** A reply from a node (already decoded by the real codec). */
  onResponse(clientId: string, seq: number, outcome: ClientOutcome): void {
    const cur = this.current;
    if (cur === null || !cur.awaiting || clientId !== this.clientId || seq !== cur.request.seq) return; // late duplicate
    cur.awaiting = false;
    cur.answeredAtMs = this.ctx.queue.now;
    if (cur.timer !== null) cur.timer.cancelled = true;
    cur.timer = null;
    if (outcome.status === 'cas_mismatch') {
      const actual = this.ctx.values.value(outcome.actual);
      this.lastKnown.set(cur.key, typeof actual === 'number' ? actual : null);
    }
    this.follow(this.judge(cur, outcome));
  }

  /** The retry policy's verdict on the attempt at the current target, as node/client.ts judges it. */
  private judge(cur: Current, outcome: ClientOutcome | null): AttemptVerdict {
    const now = this.ctx.queue.now;
    cur.suspicion = nextSuspicion(cur.suspicion, outcome, this.target, now, this.ctx.retry);
    return judgeAttempt(outcome, this.target, this.ctx.nodeIds, suspectAt(cur.suspicion, now));
  }

  /**
   * A node answered the current attempt with a `retry` (its token is kept by
   * the endpoint): send the attempt again, with a fresh wait, as node/client.ts does.
   */
  onRetry(from: string): void {
    const cur = this.current;
    if (cur === null || !cur.awaiting || from !== this.target || cur.resends >= maxResendsPerAttempt) return;
    const waitMs = attemptWaitMs(this.ctx.retry, cur.deadlineMs - this.ctx.queue.now);
    if (waitMs === null) return;
    cur.resends++;
    if (cur.timer !== null) cur.timer.cancelled = true;
    cur.timer = this.ctx.queue.schedule(waitMs, () => this.attemptExpired(cur));
    this.ctx.send(this.slot, this.target, cur.sent);
  }

  /** Acts on the retry policy's verdict on the attempt that just ended. */
  private follow(verdict: AttemptVerdict): void {
    const cur = this.current!;
    if (cur.afterOpen !== null && verdict.kind === 'ok') {
      // The session is open: the op itself goes now, within the same deadline.
      this.sessionOpen = true;
      cur.request = cur.afterOpen;
      cur.afterOpen = null;
      this.attempt();
      return;
    }
    switch (verdict.kind) {
      case 'ok':
        this.complete('ok', verdict.value);
        return;
      case 'fail':
        this.complete('fail', null, verdict.error);
        return;
      case 'indeterminate':
        this.indeterminate(verdict.error);
        return;
      case 'retry':
        this.current!.lastError = verdict.lastError;
        this.target = verdict.target;
        if (verdict.backoff) this.backoff();
        else this.attempt();
        return;
      default:
        assertNever(verdict, 'attempt verdict');
    }
  }

  private scheduleNext(): void {
    const op = this.ops[this.next];
    if (op !== undefined) {
      this.next++;
      this.ctx.queue.schedule(op.thinkMs, () => this.invoke(op));
      return;
    }
    // Workload done: after the heal, two probes (a write, then a read) that must complete.
    if (this.probesLeft > 0) {
      const probe: WorkloadOp = { f: this.probesLeft === 2 ? 'write' : 'read', key: this.slot, thinkMs: 0 };
      this.probesLeft--;
      this.ctx.queue.schedule(Math.max(0, this.ctx.livenessFromMs - this.ctx.queue.now) + 10, () => this.invoke(probe));
      return;
    }
    this.done = true;
    this.ctx.onDone(this.slot);
  }

  private invoke(op: WorkloadOp): void {
    const key = `k${op.key % this.ctx.keys}`;
    let kvOp: KvOp;
    let value: unknown;
    switch (op.f) {
      case 'read':
        kvOp = { type: 'get', key };
        value = null;
        break;
      case 'write': {
        const v = this.ctx.nextValue();
        kvOp = { type: 'put', key, value: this.ctx.values.text(v) };
        value = v;
        break;
      }
      case 'cas': {
        const expected = this.lastKnown.get(key) ?? null;
        const v = this.ctx.nextValue();
        kvOp = { type: 'cas', key, expected: expected === null ? null : this.ctx.values.text(expected), value: this.ctx.values.text(v) };
        value = [expected, v];
        break;
      }
    }
    const now = this.ctx.queue.now;
    const timeoutMs = now >= this.ctx.livenessFromMs ? this.ctx.livenessOpTimeoutMs : this.ctx.opTimeoutMs;
    const write = kvOp.type !== 'get';
    const explicit = this.ctx.opensSessions && write;
    const opening = explicit && !this.sessionOpen;
    const open = opening ? this.request({ type: 'get', key: '' }, 'open') : null;
    const own = this.request(kvOp, explicit ? 'existing' : undefined);
    const request = open ?? own;
    this.current = {
      op,
      request,
      afterOpen: open === null ? null : own,
      f: op.f,
      key,
      value,
      invokedMs: now,
      timeoutMs,
      deadlineMs: now + timeoutMs,
      failures: 0,
      lastError: 'no reply',
      suspicion: null,
      timer: null,
      awaiting: false,
      resends: 0,
      sent: request,
      sentAtMs: now,
      answeredAtMs: null,
    };
    this.ctx.history.add({ process: this.process, type: 'invoke', f: op.f, key, value }, now);
    this.attempt();
  }

  private request(op: KvOp, session: SessionMode | undefined): ClientRequest {
    const request: ClientRequest = { type: 'client_request', clientId: this.clientId, instance: this.generation + 1, seq: ++this.seq, op };
    return session === undefined ? request : { ...request, session };
  }

  private attempt(): void {
    const cur = this.current!;
    const waitMs = attemptWaitMs(this.ctx.retry, cur.deadlineMs - this.ctx.queue.now);
    if (waitMs === null) {
      this.timeout();
      return;
    }
    cur.awaiting = true;
    cur.resends = 0;
    const now = this.ctx.queue.now;
    const awaitLeader = awaitLeaderFor(this.ctx.retry, suspectAt(cur.suspicion, now), this.target, waitMs);
    cur.sent = awaitLeader === undefined ? cur.request : { ...cur.request, awaitLeader };
    cur.sentAtMs = now;
    cur.answeredAtMs = null;
    this.ctx.send(this.slot, this.target, cur.sent);
    cur.timer = this.ctx.queue.schedule(waitMs, () => this.attemptExpired(cur));
  }

  /** No answer within the attempt's wait. */
  private attemptExpired(cur: Current): void {
    cur.timer = null;
    if (!cur.awaiting) return;
    cur.awaiting = false;
    this.follow(this.judge(cur, null));
  }

  private backoff(): void {
    const cur = this.current!;
    cur.failures++;
    const drawnMs = backoffMs(this.ctx.retry, cur.failures, cur.deadlineMs - this.ctx.queue.now, this.random);
    if (drawnMs === null) {
      this.timeout();
      return;
    }
    // A held answer already waited (node/client.ts does the same); a timeout (`awaiting` ended by the timer) did not.
    const sleepMs =
      cur.sent === cur.request || cur.answeredAtMs === null ? drawnMs : backoffAfterMs(drawnMs, cur.answeredAtMs - cur.sentAtMs);
    cur.timer = this.ctx.queue.schedule(sleepMs, () => {
      cur.timer = null;
      this.attempt();
    });
  }

  private timeout(): void {
    const cur = this.current!;
    if (cur.invokedMs >= this.ctx.livenessFromMs) {
      this.ctx.onLivenessViolation(
        `liveness: process ${this.process} ${cur.f} ${cur.key} invoked at ${cur.invokedMs.toFixed(1)} ms (in the liveness phase, from ${this.ctx.livenessFromMs.toFixed(0)} ms) ` +
          `did not complete within ${cur.timeoutMs} ms: ${cur.lastError}`,
      );
    }
    this.indeterminate(`timeout after ${cur.timeoutMs} ms (${cur.lastError})`);
  }

  /** The op may or may not have happened (a timeout, a stale_seq answer): recorded as a timeout is. */
  private indeterminate(error: string): void {
    const cur = this.current!;
    if (cur.afterOpen !== null) {
      // Only the open was sent: the op itself certainly did not happen (node/client.ts does the same).
      this.complete('fail', null, `not sent: could not open a session (${error})`);
      return;
    }
    if (timedOutOpType(cur.f) === 'fail') {
      this.complete('fail', null, error);
      return;
    }
    this.complete('info', null, error);
    // The op may still happen: this process is retired (Jepsen) and the slot continues as a new one.
    this.process = this.ctx.nextProcess();
    this.generation++;
    this.clientId = `c${this.slot}g${this.generation}`;
    this.seq = 0;
    this.sessionOpen = false;
  }

  private complete(type: 'ok' | 'fail' | 'info', result: string | null, error?: string): void {
    const cur = this.current!;
    this.current = null;
    this.completed++;
    if (type !== 'info') this.lastAnsweredMs = this.ctx.queue.now;
    let value: unknown = cur.value;
    if (type === 'ok') {
      if (cur.f === 'read') value = this.ctx.values.value(result);
      const known = cur.f === 'read' ? value : cur.f === 'write' ? (cur.value as number) : (cur.value as [unknown, number])[1];
      // A value no client wrote (the checker rejects the read) is not one a cas can expect.
      this.lastKnown.set(cur.key, typeof known === 'number' ? known : null);
    }
    const op = { process: this.process, type, f: cur.f, key: cur.key, value, ...(error === undefined ? {} : { error }) };
    this.ctx.history.add(op, this.ctx.queue.now);
    this.scheduleNext();
  }
}
