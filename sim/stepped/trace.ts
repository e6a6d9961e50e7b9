/**
 * A stepped trace: a cluster setting, the client operations, and the exact
 * sequence of events to run, one at a time. The model checker (mc/) writes
 * every counterexample in this form (`*.trace.json`); `npm run sim --
 * --replay FILE` runs it again on a fresh stepped cluster and judges it with
 * the simulator's own invariant checker and the linearizability checker, so
 * a model-checker finding becomes a regression test with one command.
 *
 * Messages are named by their one-line text (node/raft/describe.ts
 * `describeMessage`), the form the core's transcript tests use
 * (`deliver-msg n2->n1 MsgAppResp term=1 match=2 seq=10`): the text names
 * every field, so two messages with the same text are the same message.
 */
import type { KvOp } from '../../node/protocol.js';
import { describeConfChange } from '../../node/raft/configuration.js';
import type { ConfChange, NodeId } from '../../node/raft/types.js';
import { noUnsafeFlags, unsafeFlagSpecs, type UnsafeFlags } from '../../node/unsafe-flags.js';
import { assertNever } from '../../node/util/assert.js';
import { defaultStreamerOptions } from '../../node/snapshot/streamer.js';
import type { NetworkRules } from './network.js';
import type { SteppedParams } from './params.js';

export const TRACE_FORMAT = 'rift-stepped-trace';
export const TRACE_VERSION = 1;

/** One client operation: a client of its own with one request (its attempts share the session `(clientId, seq)`). */
export interface ClientOpSpec {
  readonly clientId: string;
  readonly seq: number;
  readonly op: KvOp;
}

export type SteppedEvent =
  /** Deliver one message in flight (any one: the network reorders freely). */
  | { readonly kind: 'deliver'; readonly message: string }
  | { readonly kind: 'drop'; readonly message: string }
  | { readonly kind: 'duplicate'; readonly message: string }
  /** One tick of the node's logical clock (§5.2 timeouts, heartbeats). */
  | { readonly kind: 'tick'; readonly node: NodeId }
  /** The node's next timer goes off (the ticks up to the first that acts run at once). */
  | { readonly kind: 'timeout'; readonly node: NodeId }
  /** The node's disk finishes every write in progress. */
  | { readonly kind: 'fsync'; readonly node: NodeId }
  /** The node's host finishes saving the snapshot its core asked for (Ready step 5): durable, the core told, the log compacted. */
  | { readonly kind: 'snapshot'; readonly node: NodeId }
  | { readonly kind: 'crash'; readonly node: NodeId }
  | { readonly kind: 'restart'; readonly node: NodeId }
  /** The node's process stops (it receives nothing and its clock does not run) ... */
  | { readonly kind: 'pause'; readonly node: NodeId }
  /** ... and wakes `backlogTicks` ticks late. */
  | { readonly kind: 'resume'; readonly node: NodeId; readonly backlogTicks: number }
  /** Client operation `op` sends its request (first attempt or a retry) to `node`. */
  | { readonly kind: 'request'; readonly op: number; readonly node: NodeId }
  | { readonly kind: 'transfer'; readonly node: NodeId; readonly to: NodeId }
  /** An admin membership request reaches `node` (node/host.ts onAdminMessage: a single-server change, §4.1). */
  | { readonly kind: 'admin'; readonly node: NodeId; readonly change: ConfChange }
  /** Disk damage on a node that is down: its log loses its last `entries` entries. */
  | { readonly kind: 'lose_tail'; readonly node: NodeId; readonly entries: number }
  /**
   * The last frame of a down node's log is damaged (a torn write, a flipped bit): a correct node refuses to
   * start until its disk is repaired (the heal); under --unsafe torn-tail-dropped it drops the frame, here its
   * last entry, and starts without it (issue 15 defect 3).
   */
  | { readonly kind: 'tear'; readonly node: NodeId }
  /** Chunked snapshots: the retransmission timer of `node`'s snapshot stream to `peer` goes off (node/snapshot/streamer.ts). */
  | { readonly kind: 'stream_timeout'; readonly node: NodeId; readonly peer: NodeId }
  /** One step of real time passes (the model checker's rate-bounded clocks, mc/clock.ts); no node acts on it. */
  | { readonly kind: 'advance' };

export type SteppedEventKind = SteppedEvent['kind'];

export interface SteppedTrace {
  readonly format: typeof TRACE_FORMAT;
  readonly version: typeof TRACE_VERSION;
  readonly params: SteppedParams;
  readonly network: NetworkRules;
  readonly ops: readonly ClientOpSpec[];
  readonly events: readonly SteppedEvent[];
  /** Run the end-of-path liveness check after the events (see heal.ts). */
  readonly checkLiveness: boolean;
  /** What the writer found, for the reader: the replay judges on its own. */
  readonly finding?: { readonly property: string; readonly message: string };
}

/** The one-line text form of an event (counterexample listings; the CLI prints these). */
export function describeEvent(event: SteppedEvent, ops: readonly ClientOpSpec[]): string {
  switch (event.kind) {
    case 'deliver':
      return `deliver ${event.message}`;
    case 'drop':
      return `drop ${event.message}`;
    case 'duplicate':
      return `duplicate ${event.message}`;
    case 'tick':
    case 'timeout':
    case 'fsync':
    case 'snapshot':
    case 'crash':
    case 'restart':
    case 'pause':
      return `${event.kind} ${event.node}`;
    case 'resume':
      return `resume ${event.node} after ${event.backlogTicks} ticks`;
    case 'request': {
      const spec = ops[event.op];
      return `request ${event.node} op${event.op}${spec === undefined ? '' : ` ${spec.clientId}#${spec.seq} ${describeOp(spec.op)}`}`;
    }
    case 'transfer':
      return `transfer-leadership ${event.node} -> ${event.to}`;
    case 'lose_tail':
      return `lose-tail ${event.node} ${event.entries}`;
    case 'tear':
      return `tear-last-frame ${event.node}`;
    case 'stream_timeout':
      return `stream-timeout ${event.node} -> ${event.peer}`;
    case 'admin':
      return `admin ${event.node} ${describeConfChange(event.change)}`;
    case 'advance':
      return 'real time advances a step';
    default:
      return assertNever(event, 'stepped event');
  }
}

export function describeOp(op: KvOp): string {
  switch (op.type) {
    case 'get':
      return `get ${op.key}`;
    case 'put':
      return `put ${op.key}=${op.value}`;
    case 'delete':
      return `delete ${op.key}`;
    case 'cas':
      return `cas ${op.key} ${op.expected ?? 'null'}->${op.value}`;
    default:
      return assertNever(op, 'kv op');
  }
}

export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new TraceFormatError(`${what}: expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TraceFormatError(`${what}: expected a non-empty string`);
  return value;
}

/** Validates a parsed trace file; every problem names the field it concerns. */
export function parseTrace(raw: unknown): SteppedTrace {
  if (!isRecord(raw)) throw new TraceFormatError('a trace must be a JSON object');
  if (raw['format'] !== TRACE_FORMAT) throw new TraceFormatError(`format: expected "${TRACE_FORMAT}"`);
  if (raw['version'] !== TRACE_VERSION) throw new TraceFormatError(`version: expected ${TRACE_VERSION}`);
  const p = raw['params'];
  if (!isRecord(p)) throw new TraceFormatError('params: expected an object');
  const nodeCount = int(p['nodeCount'], 'params.nodeCount', 1, 9);
  const unsafeRaw = p['unsafe'];
  if (!isRecord(unsafeRaw)) throw new TraceFormatError('params.unsafe: expected an object');
  const unsafe: Record<string, boolean | number | null> = { ...noUnsafeFlags };
  for (const spec of unsafeFlagSpecs) {
    const value = unsafeRaw[spec.key];
    if (spec.kind === 'boolean') unsafe[spec.key] = value === true;
    else unsafe[spec.key] = value === null || value === undefined ? null : int(value, `params.unsafe.${spec.key}`, spec.min, spec.max);
  }
  const readMode = p['readMode'];
  if (readMode !== 'readindex' && readMode !== 'lease') throw new TraceFormatError('params.readMode: expected "readindex" or "lease"');
  const clockDriftBound = p['clockDriftBound'];
  if (typeof clockDriftBound !== 'number' || !(clockDriftBound >= 1))
    throw new TraceFormatError('params.clockDriftBound: expected a number >= 1');
  const params: SteppedParams = {
    nodeCount,
    electionTicks: int(p['electionTicks'], 'params.electionTicks', 2, 1000),
    heartbeatTicks: int(p['heartbeatTicks'], 'params.heartbeatTicks', 1, 999),
    readMode,
    clockDriftBound,
    unsafe: unsafe as UnsafeFlags,
    skipReadQuorum: p['skipReadQuorum'] === true,
    ...(p['snapshotEveryEntries'] === undefined
      ? {}
      : {
          snapshotEveryEntries: int(p['snapshotEveryEntries'], 'params.snapshotEveryEntries', 1, 1_000_000_000),
          snapshotTrailingEntries: int(p['snapshotTrailingEntries'] ?? 0, 'params.snapshotTrailingEntries', 0, 1_000_000_000),
        }),
    ...(p['spareCount'] === undefined ? {} : { spareCount: int(p['spareCount'], 'params.spareCount', 0, nodeCount - 1) }),
    ...(p['commitNotice'] === undefined ? {} : { commitNotice: commitNoticeOf(p['commitNotice']) }),
    ...(p['snapshotChunkBytes'] === undefined
      ? {}
      : { snapshotChunkBytes: int(p['snapshotChunkBytes'], 'params.snapshotChunkBytes', 1, defaultStreamerOptions.chunkBytes) }),
  };
  const n = raw['network'];
  if (!isRecord(n)) throw new TraceFormatError('network: expected an object');
  const network: NetworkRules = {
    maxInFlight: int(n['maxInFlight'], 'network.maxInFlight', 0, 1_000_000),
    dropDeadMessages: n['dropDeadMessages'] === true,
  };
  const ids = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const node = (value: unknown, what: string): NodeId => {
    const id = str(value, what);
    if (!ids.includes(id)) throw new TraceFormatError(`${what}: no node ${JSON.stringify(id)} in a ${nodeCount}-node cluster`);
    return id;
  };
  const opsRaw = raw['ops'];
  if (!Array.isArray(opsRaw)) throw new TraceFormatError('ops: expected an array');
  const ops: ClientOpSpec[] = opsRaw.map((o: unknown, i) => {
    if (!isRecord(o) || !isRecord(o['op'])) throw new TraceFormatError(`ops[${i}]: expected {clientId, seq, op}`);
    return {
      clientId: str(o['clientId'], `ops[${i}].clientId`),
      seq: int(o['seq'], `ops[${i}].seq`, 1, 1_000_000),
      op: o['op'] as unknown as KvOp,
    };
  });
  const eventsRaw = raw['events'];
  if (!Array.isArray(eventsRaw)) throw new TraceFormatError('events: expected an array');
  const events = eventsRaw.map((e: unknown, i): SteppedEvent => {
    const at = `events[${i}]`;
    if (!isRecord(e)) throw new TraceFormatError(`${at}: expected an object`);
    const kind = e['kind'];
    switch (kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate':
        return { kind, message: str(e['message'], `${at}.message`) };
      case 'tick':
      case 'timeout':
      case 'fsync':
      case 'snapshot':
      case 'crash':
      case 'restart':
      case 'pause':
        return { kind, node: node(e['node'], `${at}.node`) };
      case 'resume':
        return { kind, node: node(e['node'], `${at}.node`), backlogTicks: int(e['backlogTicks'], `${at}.backlogTicks`, 0, 1_000_000) };
      case 'request':
        return { kind, op: int(e['op'], `${at}.op`, 0, ops.length - 1), node: node(e['node'], `${at}.node`) };
      case 'transfer':
        return { kind, node: node(e['node'], `${at}.node`), to: node(e['to'], `${at}.to`) };
      case 'lose_tail':
        return { kind, node: node(e['node'], `${at}.node`), entries: int(e['entries'], `${at}.entries`, 1, 1_000_000) };
      case 'tear':
        return { kind, node: node(e['node'], `${at}.node`) };
      case 'stream_timeout':
        return { kind, node: node(e['node'], `${at}.node`), peer: node(e['peer'], `${at}.peer`) };
      case 'admin': {
        const change = e['change'];
        if (!isRecord(change)) throw new TraceFormatError(`${at}.change: expected {type, node}`);
        const type = change['type'];
        if (type !== 'add_learner' && type !== 'promote' && type !== 'remove')
          throw new TraceFormatError(`${at}.change.type: expected add_learner, promote or remove`);
        return { kind, node: node(e['node'], `${at}.node`), change: { type, node: node(change['node'], `${at}.change.node`) } };
      }
      case 'advance':
        return { kind };
      default:
        throw new TraceFormatError(`${at}.kind: unknown event kind ${JSON.stringify(kind)}`);
    }
  });
  const findingRaw = raw['finding'];
  const finding = isRecord(findingRaw) ? { property: String(findingRaw['property']), message: String(findingRaw['message']) } : undefined;
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    params,
    network,
    ops,
    events,
    checkLiveness: raw['checkLiveness'] === true,
    ...(finding === undefined ? {} : { finding }),
  };
}

function commitNoticeOf(v: unknown): 'immediate' {
  if (v !== 'immediate') throw new TraceFormatError(`params.commitNotice: expected "immediate" or absent, got ${JSON.stringify(v)}`);
  return v;
}
