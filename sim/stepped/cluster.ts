/**
 * A stepped cluster as one mutable object: its nodes, the messages in
 * flight and which processes are paused, advanced one `SteppedEvent` at a
 * time. The replay of a counterexample and the end-of-path liveness check
 * (heal.ts) run on it; the model checker keeps the same pieces as immutable,
 * interned data instead (mc/) and uses the same `SteppedNode` and network
 * rules, so both run the same node code on the same events.
 */
import type { NodeId } from '../../node/raft/types.js';
import { assertNever } from '../../node/util/assert.js';
import { requestOf } from './clients.js';
import { describeSteppedMessage, isDeadMessage, type NetworkRules, type SteppedMessage } from './network.js';
import { SteppedNode, type StepEffects, type SteppedNodeState } from './node.js';
import { coreConfigFor, nodeIds, type SteppedParams } from './params.js';
import type { ClientOpSpec, SteppedEvent } from './trace.js';

/** An event the cluster cannot run (a message not in flight, a node that is down). */
export class EventNotPossible extends Error {
  override readonly name = 'EventNotPossible';
}

export interface SteppedClusterState {
  readonly nodes: readonly SteppedNodeState[];
  readonly network: readonly SteppedMessage[];
  readonly paused: readonly NodeId[];
  /** Attempts each client operation has made. */
  readonly attempts: readonly number[];
}

export interface EventOutcome {
  /** The node the event ran on, if any. */
  readonly node: NodeId | null;
  readonly effects: StepEffects | null;
  /** A `deliver` event: the message delivered. */
  readonly delivered?: SteppedMessage;
}

export class SteppedCluster {
  readonly ids: readonly NodeId[];
  private readonly nodes = new Map<NodeId, SteppedNode>();
  private network: SteppedMessage[] = [];
  private readonly paused = new Set<NodeId>();
  /** Nodes whose last log frame is damaged and that refuse to start until `repairDisk` (a correct node; `tear`). */
  private readonly refused = new Set<NodeId>();
  private attempts: number[];

  constructor(
    readonly params: SteppedParams,
    readonly ops: readonly ClientOpSpec[],
    readonly rules: NetworkRules,
    state: SteppedClusterState | null = null,
  ) {
    this.ids = nodeIds(params);
    this.attempts = ops.map(() => 0);
    this.ids.forEach((id, i) => {
      const config = coreConfigFor(params, id);
      const nodeState = state?.nodes[i];
      this.nodes.set(
        id,
        nodeState === undefined
          ? SteppedNode.fresh(id, config, params.unsafe, params.snapshotChunkBytes ?? null)
          : SteppedNode.fromState(id, config, params.unsafe, nodeState, params.snapshotChunkBytes ?? null),
      );
    });
    if (state !== null) {
      this.network = state.network.slice();
      for (const id of state.paused) this.paused.add(id);
      this.attempts = state.attempts.slice();
    }
  }

  /** Every node started from an empty disk: the initial state of a run. */
  static start(params: SteppedParams, ops: readonly ClientOpSpec[], rules: NetworkRules): SteppedCluster {
    const cluster = new SteppedCluster(params, ops, rules);
    for (const node of cluster.nodes.values()) node.restart();
    for (const node of cluster.nodes.values()) node.takeEffects();
    return cluster;
  }

  state(): SteppedClusterState {
    return {
      nodes: this.ids.map((id) => this.node(id).state()),
      network: this.network.slice(),
      paused: [...this.paused].sort(),
      attempts: this.attempts.slice(),
    };
  }

  node(id: NodeId): SteppedNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new EventNotPossible(`no node ${id}`);
    return node;
  }

  inFlight(): readonly SteppedMessage[] {
    return this.network;
  }

  isPaused(id: NodeId): boolean {
    return this.paused.has(id);
  }

  attemptsOf(op: number): number {
    return this.attempts[op] ?? 0;
  }

  run(event: SteppedEvent): EventOutcome {
    switch (event.kind) {
      case 'deliver': {
        const message = this.take(event.message);
        const node = this.live(message.to, 'deliver to');
        node.deliver(message);
        return { ...this.after(node), delivered: message };
      }
      case 'drop':
        this.take(event.message);
        return { node: null, effects: null };
      case 'duplicate': {
        this.enqueue([this.find(event.message)]);
        return { node: null, effects: null };
      }
      case 'tick': {
        const node = this.live(event.node, 'tick');
        node.tick();
        return this.after(node);
      }
      case 'timeout': {
        const node = this.live(event.node, 'timeout');
        node.timeout();
        return this.after(node);
      }
      case 'fsync': {
        const node = this.node(event.node);
        node.fsync();
        return this.after(node);
      }
      case 'crash': {
        const node = this.node(event.node);
        node.crash();
        this.paused.delete(event.node);
        return this.after(node);
      }
      case 'restart': {
        const node = this.node(event.node);
        if (node.up) throw new EventNotPossible(`restart ${event.node}: it is running`);
        if (this.refused.has(event.node))
          throw new EventNotPossible(`restart ${event.node}: it refuses to start (its last log frame is damaged)`);
        node.restart();
        return this.after(node);
      }
      case 'pause':
        this.live(event.node, 'pause');
        this.paused.add(event.node);
        return { node: event.node, effects: null };
      case 'resume': {
        if (!this.paused.delete(event.node)) throw new EventNotPossible(`resume ${event.node}: it is not paused`);
        const node = this.node(event.node);
        node.resume(event.backlogTicks);
        return this.after(node);
      }
      case 'request': {
        const spec = this.ops[event.op];
        if (spec === undefined) throw new EventNotPossible(`no client operation ${event.op}`);
        const node = this.live(event.node, 'request at');
        const attempt = this.attempts[event.op] ?? 0;
        this.attempts[event.op] = attempt + 1;
        node.clientRequest({ op: event.op, attempt }, requestOf(spec));
        return this.after(node);
      }
      case 'snapshot': {
        const node = this.live(event.node, 'snapshot at');
        if (!node.hasSnapshotSave()) throw new EventNotPossible(`snapshot ${event.node}: it is saving no snapshot`);
        node.snapshot();
        return this.after(node);
      }
      case 'transfer': {
        const node = this.live(event.node, 'transfer at');
        node.transferLeadership(event.to);
        return this.after(node);
      }
      case 'admin': {
        const node = this.live(event.node, 'admin at');
        node.admin(event.change);
        return this.after(node);
      }
      case 'lose_tail': {
        const node = this.node(event.node);
        if (node.up) throw new EventNotPossible(`lose-tail ${event.node}: it is running`);
        node.loseLogTail(event.entries);
        return this.after(node);
      }
      case 'tear': {
        const node = this.node(event.node);
        if (node.up) throw new EventNotPossible(`tear-last-frame ${event.node}: it is running`);
        // The storage's choice at the next start: under the flag it drops the frame (here its last entry); a correct one refuses.
        if (this.params.unsafe.tornTailDropped) node.loseLogTail(1);
        else this.refused.add(event.node);
        return this.after(node);
      }
      case 'stream_timeout': {
        const node = this.live(event.node, 'stream timeout at');
        if (!node.streamPeers().includes(event.peer))
          throw new EventNotPossible(`stream-timeout ${event.node} -> ${event.peer}: no snapshot stream to ${event.peer}`);
        node.streamTimeout(event.peer);
        return this.after(node);
      }
      case 'advance':
        // Real time only: the nodes' ticks are events of their own.
        return { node: null, effects: null };
      default:
        return assertNever(event, 'stepped event');
    }
  }

  /** The heal repairs a damaged disk (as the simulator's heal restores the file): a node that refused may start. */
  repairDisk(id: NodeId): void {
    this.refused.delete(id);
  }

  /** Runs `input` on a live, unpaused node outside the event vocabulary (the liveness probe), with the usual effects. */
  inject(id: NodeId, input: (node: SteppedNode) => void): EventOutcome {
    const node = this.live(id, 'input at');
    input(node);
    return this.after(node);
  }

  private live(id: NodeId, what: string): SteppedNode {
    const node = this.node(id);
    if (!node.up) throw new EventNotPossible(`${what} ${id}: it is down`);
    if (this.paused.has(id)) throw new EventNotPossible(`${what} ${id}: it is paused`);
    return node;
  }

  private find(text: string): SteppedMessage {
    const message = this.network.find((m) => describeSteppedMessage(m) === text);
    if (message === undefined) throw new EventNotPossible(`no message in flight reads "${text}"`);
    return message;
  }

  private take(text: string): SteppedMessage {
    const at = this.network.findIndex((m) => describeSteppedMessage(m) === text);
    const message = this.network[at];
    if (message === undefined) throw new EventNotPossible(`no message in flight reads "${text}"`);
    this.network.splice(at, 1);
    return message;
  }

  private after(node: SteppedNode): EventOutcome {
    const effects = node.takeEffects();
    this.enqueue(effects.messages);
    return { node: node.id, effects };
  }

  /** Adds sent messages, then removes dead ones (network.ts). */
  private enqueue(messages: readonly SteppedMessage[]): void {
    for (const message of messages) this.network.push(message);
    if (this.rules.dropDeadMessages) {
      this.network = this.network.filter((m) => !isDeadMessage(m, this.node(m.to).durableState().hardState.currentTerm));
    }
  }
}
