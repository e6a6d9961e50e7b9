/**
 * The interpreter of the transcript command language (after etcd-io/raft's
 * `rafttest/interaction_env*.go`): real `RaftNode`s, seeded PRNGs, no
 * timers, and a driver that honours the Ready contract as `node/host.ts`
 * does, so a transcript shows exactly what the core asks of its host.
 *
 * The driver, per node:
 * - after every input (tick, message, proposal, read, campaign, transfer)
 *   it takes Readies until the core has none, printing each one;
 * - for each Ready it persists `hardState` and `entriesToAppend` to the
 *   node's disk (an in-memory record of what survives a crash), then sends
 *   `messages` into the network, reports `persisted(lastIndex)`, applies
 *   `committedEntries` and serves the confirmed reads once applied;
 * - except, with `parallel-append=true`, for a leader's Ready without a
 *   hard state: then it sends first and leaves the write in flight
 *   (thesis §10.2.1) until `persist ID` or `stabilize`. Like the host, it
 *   takes no further Ready from that node while the write is in flight.
 *
 * Messages wait in one FIFO network until `deliver-msgs`, `drop` or
 * `stabilize`; a message to or from an isolated node is dropped when it
 * would be delivered. `restart ID` rebuilds the core from its disk only:
 * volatile state and a write still in flight are lost.
 *
 * Snapshots (§7): a Ready's `snapshotsToSend` go into the same network as
 * `MsgSnap` lines, each carrying the sender's snapshot contents; delivering
 * one stands for the whole chunk stream arriving checksummed: the receiver
 * stages the contents and steps the message, and the sender's driver reports
 * `finished` (dropping one reports `failed`). A Ready's `snapshotRequest` is
 * honoured at once (the driver writes the applied entries as the snapshot
 * and calls `snapshotTaken`), and `discardEntriesBefore` trims the disk.
 * The state machine is the list of applied entries (disk.ts).
 *
 * Commands (node ids are n1..nN; the README in testdata/ has examples):
 *   add-nodes N [pre-vote=B] [check-quorum=B] [lease=TICKS] [parallel-append=B]
 *               [election=TICKS] [election-max=TICKS] [heartbeat=TICKS] [seed=S]
 *               [snapshot-every=N] [trailing=N]
 *   add-learner FROM ID          promote FROM ID      remove FROM ID
 *   propose-conf-change FROM add_learner|promote|remove ID
 *   snapshot ID                  (the driver snapshots its applied state on its own)
 *   campaign ID                  tick ID [N]          tick-election ID     tick-heartbeat ID
 *   propose ID DATA...           read-index ID REQ... transfer-leadership FROM TO
 *   deliver-msgs [from=ID] [to=ID] [type=KIND]       drop [from=ID] [to=ID] [type=KIND]
 *   deliver-msg MESSAGE          drop-msg MESSAGE     (one message, named by its describeMessage line)
 *   inflight [from=ID] [to=ID] [type=KIND]           stabilize [ID...]
 *   persist ID                   isolate ID           recover              restart ID
 *   status ID                    log ID               raft-state
 *
 * `add-learner` creates the node when it does not exist yet: a joiner
 * (RaftConfig.joining) with the same settings, which learns its cluster
 * from the leader (dissertation §4.2.1).
 */
import {
  describeEntries,
  describeHardState,
  describeMessage,
  describeProgress,
  describeProposeResult,
  describeReadyLines,
  describeSnapshotMeta,
  describeStatus,
  isMessageKind,
  MESSAGE_KINDS,
  messageKind,
  type MessageKind,
} from '../../../../node/raft/describe.js';
import { describeConfiguration, sameConfiguration } from '../../../../node/raft/configuration.js';
import { createPrng } from '../../../../node/raft/prng.js';
import { RaftNode } from '../../../../node/raft/raft.js';
import type { ConfChange, Entry, InstallSnapshot, NodeId, RaftConfig, RaftMessage, ReadState, Ready } from '../../../../node/raft/types.js';
import { applyReady, discardEntries, emptyDisk, persistReady, saveSnapshot, storedState, type Disk } from '../disk.js';
import { ids, makeConfig, type ConfigOverrides } from '../network.js';

/** A transcript that misuses the language (unknown command, bad argument): the test fails naming the line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bounds on `stabilize`: a cluster that does not go quiet is a finding, not an endless loop. */
const MAX_STABILIZE_ROUNDS = 200;
const MAX_STABILIZE_MESSAGES = 20_000;
/** Bound on `tick ID N`. */
const MAX_TICKS_PER_COMMAND = 1_000;

/** A datagram, or an InstallSnapshot stream with the contents it carries. */
type InFlight = RaftMessage | InstallSnapshot;

interface DriverNode {
  readonly id: NodeId;
  readonly config: RaftConfig;
  raft: RaftNode;
  /** What survives a crash: written only when a Ready is persisted. */
  readonly disk: Disk;
  /** Parallel leader append: a Ready whose messages are sent and whose entries are not yet durable. */
  writeInFlight: Ready | null;
  /** The state machine: the entries applied, entry i at position i - 1 (rebuilt from the snapshot at a restart). */
  applied: Entry[];
  /** Snapshot contents a stream delivered, while the core decides whether to install them. */
  staged: readonly Entry[] | null;
  /** Reads the core confirmed, waiting for lastApplied to reach their readIndex (Ready step 4). */
  readsToServe: ReadState[];
  incarnation: number;
}

interface Command {
  readonly name: string;
  readonly positional: readonly string[];
  readonly named: ReadonlyMap<string, string>;
  /** The text after the command name (for `propose`, whose data may contain spaces and `=`). */
  readonly rest: string;
}

function parseCommand(text: string): Command {
  const trimmed = text.trim();
  const space = trimmed.search(/\s/);
  const name = space === -1 ? trimmed : trimmed.slice(0, space);
  const rest = space === -1 ? '' : trimmed.slice(space).trim();
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const token of rest === '' ? [] : rest.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) named.set(token.slice(0, eq), token.slice(eq + 1));
    else positional.push(token);
  }
  return { name, positional, named, rest };
}

interface MessageFilter {
  readonly from: NodeId | null;
  readonly to: NodeId | null;
  readonly kind: MessageKind | null;
}

export class InteractionEnv {
  private readonly nodes = new Map<NodeId, DriverNode>();
  private nodeIds: readonly NodeId[] = [];
  /** Sent and not yet delivered or dropped, oldest first. */
  private network: InFlight[] = [];
  /** The contents each InstallSnapshot stream in flight carries. */
  private readonly streams = new WeakMap<InstallSnapshot, readonly Entry[]>();
  /** The settings of add-nodes, for nodes that join later. */
  private settings: ConfigOverrides = {};
  private readonly isolated = new Set<NodeId>();
  private seed = 1;
  private out: string[] = [];

  /** Runs one command line and returns what it printed (never empty: `ok` when there is nothing to say). */
  run(text: string): string[] {
    this.out = [];
    const command = parseCommand(text);
    this.dispatch(command);
    const printed = this.out.length > 0 ? this.out : ['ok'];
    this.out = [];
    return printed;
  }

  private dispatch(c: Command): void {
    switch (c.name) {
      case 'add-nodes':
        return this.addNodes(c);
      case 'campaign':
        return this.input(this.nodeArg(c, 0, 1), (node) => node.raft.campaign());
      case 'tick':
        return this.tick(c);
      case 'tick-election':
        return this.tickTimes(this.nodeArg(c, 0, 1), (node) => node.config.electionTimeoutTicksMax);
      case 'tick-heartbeat':
        return this.tickTimes(this.nodeArg(c, 0, 1), (node) => node.config.heartbeatIntervalTicks);
      case 'propose':
        return this.propose(c);
      case 'read-index':
        return this.readIndex(c);
      case 'transfer-leadership': {
        this.expectArgs(c, 2, []);
        const to = this.node(c.positional[1]);
        return this.input(this.node(c.positional[0]), (node) => node.raft.transferLeadership(to.id));
      }
      case 'deliver-msgs':
        return this.deliverMsgs(c);
      case 'drop':
        return this.drop(c);
      case 'deliver-msg':
        return this.deliver([this.takeMessage(c)]);
      case 'drop-msg':
        return this.dropped(this.takeMessage(c));
      case 'inflight':
        return this.listInflight(c);
      case 'stabilize':
        return this.stabilize(c);
      case 'persist':
        return this.persistCommand(this.nodeArg(c, 0, 1));
      case 'isolate': {
        const node = this.nodeArg(c, 0, 1);
        this.isolated.add(node.id);
        return;
      }
      case 'recover':
        this.expectArgs(c, 0, []);
        this.isolated.clear();
        return;
      case 'restart':
        return this.restart(this.nodeArg(c, 0, 1));
      case 'status':
        return this.status(this.nodeArg(c, 0, 1));
      case 'log':
        return this.log(this.nodeArg(c, 0, 1));
      case 'add-learner':
        return this.confChange(c, 'add_learner');
      case 'promote':
        return this.confChange(c, 'promote');
      case 'remove':
        return this.confChange(c, 'remove');
      case 'propose-conf-change': {
        this.expectArgs(c, 3, []);
        const type = c.positional[1];
        if (type !== 'add_learner' && type !== 'promote' && type !== 'remove')
          throw new UsageError(`propose-conf-change: unknown change '${type ?? ''}' (add_learner, promote, remove)`);
        return this.proposeConfChange(this.node(c.positional[0]), { type, node: c.positional[2] ?? '' });
      }
      case 'snapshot':
        return this.snapshot(this.nodeArg(c, 0, 1));
      case 'raft-state':
        this.expectArgs(c, 0, []);
        for (const id of this.nodeIds) {
          this.print(`${id}: ${describeStatus(this.node(id).raft.status())}${this.isolated.has(id) ? ' (isolated)' : ''}`);
        }
        return;
      default:
        throw new UsageError(`unknown command '${c.name}'`);
    }
  }

  // ---------------------------------------------------------------- commands

  private addNodes(c: Command): void {
    this.expectArgs(c, 1, [
      'pre-vote',
      'check-quorum',
      'lease',
      'parallel-append',
      'election',
      'election-max',
      'heartbeat',
      'seed',
      'snapshot-every',
      'trailing',
    ]);
    if (this.nodes.size > 0) throw new UsageError('add-nodes: the cluster already exists (add-learner adds a node)');
    const count = this.intArg(c.positional[0], 'N');
    const election = this.intNamed(c, 'election', 10);
    this.seed = this.intNamed(c, 'seed', 1);
    const leaseText = c.named.get('lease');
    const everyText = c.named.get('snapshot-every');
    const trailingText = c.named.get('trailing');
    this.settings = {
      preVote: this.boolNamed(c, 'pre-vote'),
      checkQuorum: this.boolNamed(c, 'check-quorum'),
      leaseTicks: leaseText === undefined ? null : this.intArg(leaseText, 'lease'),
      parallelLeaderAppend: this.boolNamed(c, 'parallel-append'),
      // No jitter unless asked for: a transcript says when each node times out.
      electionTimeoutTicksMin: election,
      electionTimeoutTicksMax: this.intNamed(c, 'election-max', election),
      heartbeatIntervalTicks: this.intNamed(c, 'heartbeat', 2),
      // Without snapshot-every the core never asks for a snapshot (the `snapshot` command still takes one).
      snapshotEveryEntries: everyText === undefined ? null : this.intArg(everyText, 'snapshot-every'),
      ...(trailingText === undefined ? {} : { snapshotTrailingEntries: this.intArg(trailingText, 'trailing') }),
    };
    this.nodeIds = ids(count);
    for (const id of this.nodeIds) this.createNode(id, this.nodeIds, false);
    const first = this.node(this.nodeIds[0]).config;
    const snapshots =
      everyText === undefined && trailingText === undefined
        ? ''
        : ` snapshot-every=${first.snapshotEveryEntries ?? 'off'} trailing=${first.snapshotTrailingEntries ?? 'default'}`;
    this.print(
      `${this.nodeIds.join(' ')}: election=${first.electionTimeoutTicksMin}..${first.electionTimeoutTicksMax} ` +
        `heartbeat=${first.heartbeatIntervalTicks} ` +
        `pre-vote=${first.preVote} check-quorum=${first.checkQuorum} lease=${first.leaseTicks ?? 'off'} ` +
        `parallel-append=${first.parallelLeaderAppend === true}${snapshots}`,
    );
  }

  private createNode(id: NodeId, peers: readonly NodeId[], joining: boolean): DriverNode {
    const config = makeConfig(id, peers, { ...this.settings, ...(joining ? { joining: true } : {}) });
    const disk = emptyDisk();
    const raft = this.startCore(config, disk, this.nodeIds.indexOf(id), 0);
    const node: DriverNode = { id, config, raft, disk, writeInFlight: null, applied: [], staged: null, readsToServe: [], incarnation: 0 };
    this.nodes.set(id, node);
    return node;
  }

  /** `add-learner FROM ID` (creating ID as a joiner if needed), `promote FROM ID`, `remove FROM ID`. */
  private confChange(c: Command, type: ConfChange['type']): void {
    this.expectArgs(c, 2, []);
    const from = this.node(c.positional[0]);
    const target = c.positional[1] ?? '';
    if (type === 'add_learner' && !this.nodes.has(target)) {
      if (!/^n\d+$/.test(target)) throw new UsageError(`add-learner: node ids are nN, got '${target}'`);
      this.nodeIds = [...this.nodeIds, target];
      this.createNode(target, this.nodeIds, true);
      this.print(`> ${target} started, joining (no configuration until the leader's log gives it one)`);
    }
    this.proposeConfChange(from, { type, node: target });
  }

  private proposeConfChange(node: DriverNode, change: ConfChange): void {
    this.input(node, (n) =>
      this.print(`${n.id} propose ${change.type} ${change.node}: ${describeProposeResult(n.raft.proposeConfChange(change))}`),
    );
  }

  /** The driver snapshots its state machine at its applied index on its own initiative (snapshotTaken). */
  private snapshot(node: DriverNode): void {
    const meta = node.raft.snapshotMetaAt(node.applied.length);
    if (meta === null) {
      this.print(`${node.id}: nothing new to snapshot (applied ${node.applied.length})`);
      return;
    }
    saveSnapshot(node.disk, meta, node.applied);
    this.print(`${node.id} took snapshot ${describeSnapshotMeta(meta)}`);
    this.input(node, (n) => n.raft.snapshotTaken(meta));
  }

  private tick(c: Command): void {
    this.expectArgs(c, [1, 2], []);
    const node = this.node(c.positional[0]);
    const times = c.positional[1] === undefined ? 1 : this.intArg(c.positional[1], 'N');
    this.tickTimes(node, () => times);
  }

  private tickTimes(node: DriverNode, times: (node: DriverNode) => number): void {
    const count = times(node);
    if (count > MAX_TICKS_PER_COMMAND) throw new UsageError(`at most ${MAX_TICKS_PER_COMMAND} ticks per command`);
    for (let t = 0; t < count; t++) this.input(node, (n) => n.raft.tick());
  }

  private propose(c: Command): void {
    const [id] = c.positional;
    const node = this.node(id);
    const data = c.rest.slice((id ?? '').length).trim();
    if (data === '') throw new UsageError('propose ID DATA: DATA is missing');
    this.input(node, (n) => this.print(`${n.id} propose ${JSON.stringify(data)}: ${describeProposeResult(n.raft.propose(data))}`));
  }

  private readIndex(c: Command): void {
    if (c.positional.length < 2 || c.named.size > 0) throw new UsageError('usage: read-index ID REQ...');
    const node = this.node(c.positional[0]);
    this.input(node, (n) => {
      for (const requestId of c.positional.slice(1)) n.raft.readIndex(requestId);
    });
  }

  private deliverMsgs(c: Command): void {
    this.expectArgs(c, 0, ['from', 'to', 'type']);
    const filter = this.filterArg(c);
    const chosen = this.network.filter((m) => matches(m, filter));
    this.network = this.network.filter((m) => !matches(m, filter));
    this.deliver(chosen);
  }

  private drop(c: Command): void {
    this.expectArgs(c, 0, ['from', 'to', 'type']);
    const filter = this.filterArg(c);
    const dropped = this.network.filter((m) => matches(m, filter));
    this.network = this.network.filter((m) => !matches(m, filter));
    for (const message of dropped) this.dropped(message);
  }

  /** A message lost; a lost snapshot stream is one its driver gives up on and reports (Ready step 2). */
  private dropped(message: InFlight): void {
    this.print(`dropped: ${describeMessage(message)}`);
    if (message.type === 'install_snapshot') this.report(message, 'failed');
  }

  private report(message: InstallSnapshot, outcome: 'finished' | 'failed'): void {
    const sender = this.node(message.from);
    this.print(`> ${sender.id} reportSnapshot ${message.to} ${outcome}`);
    this.input(sender, (n) => n.raft.reportSnapshot(message.to, outcome));
  }

  /**
   * The first message in flight whose describeMessage line is the rest of
   * the command, taken out of the network. The one-line form names a message
   * exactly (two messages with the same line are the same message), so a
   * trace printed in it, such as a model checker's counterexample, replays
   * here one delivery at a time.
   */
  private takeMessage(c: Command): InFlight {
    const at = this.network.findIndex((m) => describeMessage(m) === c.rest);
    const message = this.network[at];
    if (message === undefined) throw new UsageError(`${c.name}: no message in flight is \`${c.rest}\``);
    this.network.splice(at, 1);
    return message;
  }

  private listInflight(c: Command): void {
    this.expectArgs(c, 0, ['from', 'to', 'type']);
    const filter = this.filterArg(c);
    for (const message of this.network.filter((m) => matches(m, filter))) this.print(describeMessage(message));
  }

  /**
   * Until nothing changes: finish writes in flight, take Readies, deliver
   * every message addressed to the given nodes (all by default), each
   * receiver's messages in order, receivers in id order (etcd-io/raft's
   * `stabilize`). Bounded: a cluster that never goes quiet fails the test.
   */
  private stabilize(c: Command): void {
    this.expectArgs(c, [0, this.nodeIds.length], []);
    const which = c.positional.length > 0 ? c.positional.map((id) => this.node(id)) : this.nodeIds.map((id) => this.node(id));
    const included = new Set(which.map((node) => node.id));
    let delivered = 0;
    for (let round = 0; ; round++) {
      if (round >= MAX_STABILIZE_ROUNDS || delivered > MAX_STABILIZE_MESSAGES) {
        throw new Error(`stabilize: not quiet after ${round} rounds and ${delivered} messages`);
      }
      let changed = false;
      for (const node of which) {
        if (node.writeInFlight !== null) {
          this.finishWrite(node);
          changed = true;
        }
      }
      for (const node of which) if (this.handleReadies(node)) changed = true;
      const chosen = this.network.filter((m) => included.has(m.to));
      if (chosen.length === 0 && !changed) return;
      this.network = this.network.filter((m) => !included.has(m.to));
      this.deliver(chosen);
      delivered += chosen.length;
    }
  }

  private persistCommand(node: DriverNode): void {
    if (node.writeInFlight === null) throw new UsageError(`persist ${node.id}: no write in flight`);
    this.finishWrite(node);
    this.handleReadies(node);
  }

  /** A crash and a start: the core comes back from its disk only; everything volatile is lost. */
  private restart(node: DriverNode): void {
    const lost = node.writeInFlight;
    node.writeInFlight = null;
    node.incarnation++;
    node.raft = this.startCore(node.config, node.disk, this.nodeIds.indexOf(node.id), node.incarnation);
    // The state machine comes back from the snapshot (§7) and reapplies what follows.
    node.applied = [...node.disk.snapshotData];
    node.staged = null;
    node.readsToServe = [];
    const lostNote = lost === null ? '' : ` (lost the unpersisted write of ${describeIndexRange(lost.entriesToAppend)})`;
    this.print(`> ${node.id} restarted from disk: ${describeDisk(node.disk)}${lostNote}`);
    this.print(`  ${describeStatus(node.raft.status())}`);
  }

  private status(node: DriverNode): void {
    this.print(describeStatus(node.raft.status()));
    // The membership, once it is not the one the node started with (dissertation ch. 4).
    const configuration = node.raft.configuration();
    const bootstrap = node.config.joining === true ? null : { voters: [...node.config.peers].sort(), learners: [] };
    if (bootstrap === null || !sameConfiguration(configuration, bootstrap)) this.print(`  config ${describeConfiguration(configuration)}`);
    // Dissertation §4.2.2: this server knows a committed configuration removed it (the driver of a real node shuts it down).
    const removal = node.raft.removal();
    if (removal !== null) this.print(`  removed at=${removal.index} by=${removal.leaderId} term=${removal.term}`);
    for (const peer of this.nodeIds) {
      const progress = node.raft.progressOf(peer);
      if (progress !== null) this.print(`  ${peer}: ${describeProgress(progress)}`);
    }
  }

  private log(node: DriverNode): void {
    this.print(`log ${describeEntries(node.raft.log())}`);
    this.print(`disk ${describeDisk(node.disk)}`);
    this.print(`applied ${node.applied.length}`);
  }

  // ---------------------------------------------------------------- the driver

  private startCore(config: RaftConfig, disk: Disk, index: number, incarnation: number): RaftNode {
    return new RaftNode(config, storedState(disk), createPrng(this.seed * 1000 + index * 100 + incarnation));
  }

  /** One input into a node's core, then its Readies. */
  private input(node: DriverNode, act: (node: DriverNode) => void): void {
    act(node);
    this.handleReadies(node);
  }

  /**
   * Delivers messages grouped by receiver (in id order), each group followed
   * by the receiver's Readies; then reports each snapshot stream to its
   * sender (finished when delivered, failed when lost to isolation).
   */
  private deliver(messages: readonly InFlight[]): void {
    const reports: [InstallSnapshot, 'finished' | 'failed'][] = [];
    for (const id of this.nodeIds) {
      const mine = messages.filter((m) => m.to === id);
      if (mine.length === 0) continue;
      const node = this.node(id);
      this.print(`> ${id} receiving messages`);
      for (const message of mine) {
        if (this.isolated.has(message.from) || this.isolated.has(message.to)) {
          this.print(`  ${describeMessage(message)} DROPPED (isolated)`);
          if (message.type === 'install_snapshot') reports.push([message, 'failed']);
          continue;
        }
        this.print(`  ${describeMessage(message)}`);
        if (message.type === 'install_snapshot') {
          // The whole stream arrived and its checksum matched: stage it, then let the core decide.
          node.staged = this.streams.get(message) ?? null;
          reports.push([message, 'finished']);
        }
        node.raft.step(message);
      }
      this.handleReadies(node);
      node.staged = null;
    }
    for (const [message, outcome] of reports) this.report(message, outcome);
  }

  /** Takes and handles Readies until the core has none (the host's drain loop); returns whether it took any. */
  private handleReadies(node: DriverNode): boolean {
    let took = false;
    while (node.raft.hasReady()) {
      if (node.writeInFlight !== null) {
        // The host takes no new Ready while a write is in flight (node/host.ts drainReadies).
        this.print(`> ${node.id} has a Ready waiting for the write of ${describeIndexRange(node.writeInFlight.entriesToAppend)}`);
        return took;
      }
      took = true;
      const ready = node.raft.ready();
      this.print(`> ${node.id} handling Ready`);
      for (const line of describeReadyLines(ready)) this.print(`  ${line}`);
      // Thesis §10.2.1 (the exception in the Ready contract): a leader's
      // messages carry only its own entries, so they may leave before those
      // entries are durable; the core counts its own copy only after persisted().
      const leaderOnly = ready.hardState === null && ready.softState.role === 'leader';
      if (node.config.parallelLeaderAppend === true && leaderOnly && ready.entriesToAppend.length > 0) {
        this.send(node, ready);
        node.writeInFlight = ready;
        this.print(`  sent before persisting; the write of ${describeIndexRange(ready.entriesToAppend)} is in flight`);
        return took;
      }
      // The Ready contract: durable first, then send, then apply.
      persistReady(node.disk, ready, node.staged);
      this.send(node, ready);
      this.complete(node, ready);
    }
    return took;
  }

  private finishWrite(node: DriverNode): void {
    const ready = node.writeInFlight;
    if (ready === null) return;
    node.writeInFlight = null;
    persistReady(node.disk, ready, null);
    this.print(`> ${node.id} persisted ${describeIndexRange(ready.entriesToAppend)}`);
    this.complete(node, ready);
  }

  /** The rest of a Ready once its writes are durable: report them, restore and apply, serve reads, snapshot, trim. */
  private complete(node: DriverNode, ready: Ready): void {
    node.raft.persisted(lastDiskIndex(node.disk));
    applyReady(node.applied, ready, node.staged, node.id);
    const lastApplied = node.applied.length;
    node.readsToServe.push(...ready.readStates);
    const waiting: ReadState[] = [];
    for (const read of node.readsToServe) {
      if (read.readIndex > lastApplied) waiting.push(read);
      else this.print(`  serves read ${read.requestId} (readIndex=${read.readIndex} applied=${lastApplied})`);
    }
    node.readsToServe = waiting;
    if (ready.snapshotRequest !== null) {
      // Ready step 5, at once: the applied entries are the snapshot's contents.
      saveSnapshot(node.disk, ready.snapshotRequest, node.applied);
      node.raft.snapshotTaken(ready.snapshotRequest);
      this.print(`  took snapshot ${describeSnapshotMeta(ready.snapshotRequest)}`);
    }
    if (ready.discardEntriesBefore !== null) discardEntries(node.disk, ready.discardEntriesBefore);
  }

  private send(node: DriverNode, ready: Ready): void {
    this.network.push(...ready.messages);
    for (const message of ready.snapshotsToSend) {
      if (node.disk.snapshot?.index !== message.snapshot.index)
        throw new Error(`${node.id} streams snapshot ${message.snapshot.index} but holds ${node.disk.snapshot?.index ?? 'none'}`);
      this.streams.set(message, [...node.disk.snapshotData]);
      this.network.push(message);
    }
  }

  // ---------------------------------------------------------------- arguments

  private print(line: string): void {
    this.out.push(line);
  }

  private node(id: string | undefined): DriverNode {
    const node = id === undefined ? undefined : this.nodes.get(id);
    if (node === undefined) throw new UsageError(`no node '${id ?? ''}' (nodes: ${this.nodeIds.join(' ') || 'none; add-nodes first'})`);
    return node;
  }

  private nodeArg(c: Command, position: number, count: number): DriverNode {
    this.expectArgs(c, count, []);
    return this.node(c.positional[position]);
  }

  private expectArgs(c: Command, count: number | readonly [number, number], names: readonly string[]): void {
    const [min, max] = typeof count === 'number' ? [count, count] : count;
    if (c.positional.length < min || c.positional.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`;
      throw new UsageError(`${c.name}: expected ${expected} positional argument(s), got ${c.positional.length}`);
    }
    for (const key of c.named.keys()) {
      if (names.includes(key)) continue;
      throw new UsageError(`${c.name}: unknown argument '${key}'${names.length > 0 ? ` (known: ${names.join(', ')})` : ''}`);
    }
  }

  private filterArg(c: Command): MessageFilter {
    const kind = c.named.get('type') ?? null;
    if (kind !== null && !isMessageKind(kind)) throw new UsageError(`type=${kind}: expected one of ${MESSAGE_KINDS.join(', ')}`);
    const from = c.named.get('from');
    const to = c.named.get('to');
    return { from: from === undefined ? null : this.node(from).id, to: to === undefined ? null : this.node(to).id, kind };
  }

  private intArg(text: string | undefined, what: string): number {
    const value = Number(text);
    if (text === undefined || !Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`${what}: expected a non-negative integer, got '${text ?? ''}'`);
    }
    return value;
  }

  private intNamed(c: Command, key: string, fallback: number): number {
    const text = c.named.get(key);
    return text === undefined ? fallback : this.intArg(text, key);
  }

  private boolNamed(c: Command, key: string): boolean {
    const text = c.named.get(key);
    if (text === undefined || text === 'false') return false;
    if (text === 'true') return true;
    throw new UsageError(`${key}: expected true or false, got '${text}'`);
  }
}

function matches(message: InFlight, filter: MessageFilter): boolean {
  return (
    (filter.from === null || message.from === filter.from) &&
    (filter.to === null || message.to === filter.to) &&
    (filter.kind === null || messageKind(message) === filter.kind)
  );
}

/** The index of the last entry on the disk (the snapshot's when its log is empty). */
function lastDiskIndex(disk: Disk): number {
  return disk.entries[disk.entries.length - 1]?.index ?? disk.snapshot?.index ?? 0;
}

/** `HardState term=1 vote=n1 entries [...]`, and ` snapshot 5@1 voters=[...] learners=[...]` once there is one. */
function describeDisk(disk: Disk): string {
  const snapshot = disk.snapshot === null ? '' : ` snapshot ${describeSnapshotMeta(disk.snapshot)}`;
  return `HardState ${describeHardState(disk.hardState)}${snapshot} entries ${describeEntries(disk.entries)}`;
}

function describeIndexRange(entries: readonly Entry[]): string {
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (first === undefined || last === undefined) return 'no entries';
  return first.index === last.index ? `entry ${first.index}` : `entries ${first.index}..${last.index}`;
}
