/**
 * An in-memory NemesisCluster and NetworkControl for unit tests of the
 * nemesis modules (the runner, the kinds, the targets): each records the
 * calls it gets and keeps the state a real cluster would report.
 */
import { readLocalDataFile, writeLocalDataFile } from '../../../harness/db/data-files.js';
import type { GrantedVote } from '../../../harness/net/monitor.js';
import type { ReplaySettings } from '../../../harness/net/replay-stage.js';
import type { ClientLinkControl, ClientLoss } from '../../../harness/net/client-relay.js';
import type { Grudge, LinkCounters, NetStats, NetworkControl, PacketFaults } from '../../../harness/net/types.js';
import type { NemesisCluster, NemesisContext } from '../../../harness/nemesis/context.js';
import { Rng } from '../../../harness/rng.js';
import { NodeExitedBeforeReady, type ClockState } from '../../../harness/node-process.js';
import type { AdminResult } from '../../../node/admin-client.js';
import type { MembershipCapability } from '../../../harness/db/db.js';
import type { MembershipStatus, NodeStatus } from '../../../node/protocol.js';

export class FakeNet implements NetworkControl {
  readonly calls: string[] = [];
  grudge: Grudge | null = null;
  faults: Required<PacketFaults> = { lossRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0 };

  async partition(grudge: Grudge): Promise<void> {
    this.calls.push('partition');
    this.grudge = grudge;
  }

  async heal(): Promise<void> {
    this.calls.push('heal');
    this.grudge = null;
  }

  async setFaults(faults: PacketFaults): Promise<void> {
    this.calls.push(`setFaults ${JSON.stringify(faults)}`);
    this.faults = { ...this.faults, ...faults };
  }

  async clearFaults(): Promise<void> {
    this.calls.push('clearFaults');
    this.faults = { lossRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0 };
  }

  stats(): NetStats {
    return { forwarded: 0, dropped: 0, duplicated: 0, delayed: 0 };
  }

  async setReplay(settings: ReplaySettings | null, flush?: boolean): Promise<void> {
    this.calls.push(`setReplay ${JSON.stringify(settings)}${flush === true ? ' flush' : ''}`);
  }

  async holdAllFrom(node: string | null): Promise<void> {
    this.calls.push(`holdAllFrom ${node ?? 'null'}`);
  }

  /** The node that hears only votes (null: none). */
  votesOnly: string | null = null;

  async onlyVotesTo(node: string | null): Promise<void> {
    this.calls.push(`onlyVotesTo ${node ?? 'null'}`);
    this.votesOnly = node;
  }
}

/** A network layer that sees the votes (the relay with a monitor attached). */
export class FakeMonitoredNet extends FakeNet {
  private readonly voteListeners = new Set<(vote: GrantedVote) => void>();
  readonly restartedVoters: string[] = [];

  onVoteGranted(listener: (vote: GrantedVote) => void): () => void {
    this.voteListeners.add(listener);
    return () => this.voteListeners.delete(listener);
  }

  checkRestartedVoter(vote: GrantedVote): void {
    this.restartedVoters.push(vote.voter);
  }

  /** What the monitor would report: a vote seen on the wire. */
  grant(vote: GrantedVote): void {
    for (const l of this.voteListeners) l(vote);
  }

  get voteListenerCount(): number {
    return this.voteListeners.size;
  }
}

/** The client links' relay as the client-loss kind sees it: records the rates it is told. */
export class FakeClientNet implements ClientLinkControl {
  readonly calls: string[] = [];
  private loss: ClientLoss = { replies: 0, requests: 0 };

  async setClientLoss(loss: ClientLoss): Promise<void> {
    this.calls.push(`setClientLoss ${JSON.stringify(loss)}`);
    this.loss = loss;
  }

  clientLoss(): ClientLoss {
    return this.loss;
  }

  linkStats(): Record<string, LinkCounters> {
    return {};
  }
}

export class FakeCluster implements NemesisCluster {
  readonly nodeIds: readonly string[];
  readonly calls: string[] = [];
  readonly alive: Set<string>;
  readonly paused = new Set<string>();
  readonly clocks = new Map<string, { offsetMs: number; rate: number }>();
  leaderId: string | null = 'n1';
  /** The term every node reports. */
  term = 1;
  /** Nodes whose next restarts fail as a node refusing corrupt storage does (exit code 3). */
  readonly refuseStart = new Set<string>();
  /** The client links (the client-loss kind's); null: a cluster whose clients reach the nodes directly. */
  clientNet: FakeClientNet | null = new FakeClientNet();

  constructor(
    nodeCount: number,
    readonly net: FakeNet = new FakeNet(),
    /** Where the nodes' data directories are (nothing is there unless a test puts it there). */
    private readonly dataRoot = '/nonexistent/rift-fake-cluster',
  ) {
    this.nodeIds = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
    this.alive = new Set(this.nodeIds);
    this.configuration.voters = [...this.nodeIds];
  }

  isAlive(id: string): boolean {
    return this.alive.has(id);
  }

  pid(id: string): number | null {
    // Not real processes: a number per node while it runs (no /proc entry behind it).
    return this.alive.has(id) ? 900_000 + this.nodeIds.indexOf(id) : null;
  }

  isPaused(id: string): boolean {
    return this.paused.has(id);
  }

  async leader(): Promise<string | null> {
    const l = this.leaderId;
    return l !== null && this.alive.has(l) && !this.paused.has(l) ? l : null;
  }

  async status(id: string): Promise<NodeStatus | null> {
    if (!this.alive.has(id) || this.paused.has(id)) return null;
    const clock = this.clocks.get(id) ?? { offsetMs: 0, rate: 1 };
    return {
      id,
      role: id === this.leaderId ? 'leader' : 'follower',
      currentTerm: this.term,
      votedFor: null,
      leaderId: this.leaderId,
      commitIndex: 0,
      lastApplied: 0,
      lastLogIndex: 0,
      clock: { nowMs: 0, ...clock },
      dropped: {},
      unsafe: [],
      ...(this.uptimes.has(id) ? { uptimeMs: this.uptimes.get(id)! } : {}),
    };
  }

  /** What status says of a node's uptime (absent: nothing, as a node that does not say). */
  readonly uptimes = new Map<string, number>();

  async kill(id: string): Promise<void> {
    this.calls.push(`kill ${id}`);
    this.alive.delete(id);
    this.paused.delete(id); // a stopped process dies too (SIGKILL), and comes back running
    this.clocks.delete(id); // the process and its clock are gone
  }

  /** How each node's process last exited on its own (a removed node told so by its leader: 6, NODE_EXIT.removed). */
  readonly exitCodes = new Map<string, number>();

  exitCode(id: string): number | null {
    return this.alive.has(id) ? null : (this.exitCodes.get(id) ?? null);
  }

  async restart(id: string): Promise<void> {
    this.calls.push(`restart ${id}`);
    this.exitCodes.delete(id);
    if (this.refuseStart.has(id)) {
      throw new NodeExitedBeforeReady(
        `${id} exited before it was ready (code 3); log tail:\nrift-node: refusing to start: storage corruption in ${this.dataDir(id)}/raft.log at byte offset 8: fake`,
        3,
      );
    }
    this.alive.add(id);
  }

  dataDir(id: string): string {
    return `${this.dataRoot}/${id}`;
  }

  readDataFile(id: string, name: string): Promise<Buffer | null> {
    return readLocalDataFile(this.dataDir(id), name);
  }

  writeDataFile(id: string, name: string, bytes: Buffer): Promise<void> {
    return writeLocalDataFile(this.dataDir(id), name, bytes);
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
    this.paused.add(id);
  }

  async resume(id: string): Promise<void> {
    this.calls.push(`resume ${id}`);
    this.paused.delete(id);
  }

  /**
   * An admin path that commits every change at once (a removed leader hands
   * over to the first other voter). `adminDown`: every command goes
   * unanswered, as with no leader. A learner reports caught up from its
   * second status look on (the nemesis must wait for it).
   */
  readonly configuration = { voters: [] as string[], learners: [] as string[] };
  adminDown = false;
  /** A removed node exits at once, as a real one told by its leader's farewell does (exit code 6); default: it stays up. */
  removedExit = false;
  /** Nodes that exit (code 6) right after they are added back: a farewell from their removal arrived late. Each once. */
  readonly exitOnReAdd = new Set<string>();
  /** The next this-many changes are refused (a definite refusal that passes later: a change still in flight). */
  refuseChanges = 0;
  /** The next this-many changes are made but answered refused, as a database that misreports a committed change. */
  madeButRefused = 0;
  private readonly learnerLooks = new Map<string, number>();

  readonly membership: MembershipCapability = {
    change: async (command, node): Promise<AdminResult> => {
      this.calls.push(`admin ${command} ${node}`);
      if (this.adminDown) return { type: 'indeterminate', error: 'no answer (fake admin down)' };
      if (this.refuseChanges > 0) {
        this.refuseChanges--;
        return { type: 'refused', error: 'the configuration change at index 4 is not committed yet' };
      }
      const c = this.configuration;
      const member = c.voters.includes(node) || c.learners.includes(node);
      switch (command) {
        case 'remove':
          if (!member) return { type: 'refused', error: `${node} is not a member` };
          c.voters = c.voters.filter((id) => id !== node);
          c.learners = c.learners.filter((id) => id !== node);
          if (this.leaderId === node) this.leaderId = c.voters[0] ?? null;
          if (this.removedExit) {
            this.alive.delete(node);
            this.exitCodes.set(node, 6);
          }
          break;
        case 'add':
          if (member) return { type: 'refused', error: `${node} is already a member` };
          c.learners = [...c.learners, node].sort();
          this.learnerLooks.set(node, 0);
          if (this.exitOnReAdd.delete(node)) {
            this.alive.delete(node);
            this.exitCodes.set(node, 6);
          }
          break;
        case 'promote':
          if (!c.learners.includes(node) || (this.learnerLooks.get(node) ?? 0) < 2)
            return { type: 'refused', error: `${node} is not a caught-up learner` };
          c.learners = c.learners.filter((id) => id !== node);
          c.voters = [...c.voters, node].sort();
          break;
      }
      if (this.madeButRefused > 0) {
        this.madeButRefused--;
        return { type: 'refused', error: 'etcdserver: unhealthy cluster' };
      }
      return { type: 'ok', membership: this.membershipStatus() };
    },
    status: async (): Promise<AdminResult> => {
      if (this.adminDown) return { type: 'indeterminate', error: 'no answer (fake admin down)' };
      for (const id of this.configuration.learners) this.learnerLooks.set(id, (this.learnerLooks.get(id) ?? 0) + 1);
      return { type: 'ok', membership: this.membershipStatus() };
    },
  };

  private membershipStatus(): MembershipStatus {
    const { voters, learners } = this.configuration;
    return {
      leaderId: this.leaderId ?? 'none',
      term: this.term,
      commitIndex: 0,
      lastLogIndex: 0,
      voters: [...voters],
      learners: [...learners],
      configurationCommitted: true,
      members: [
        ...voters.map((id) => ({ id, role: 'voter' as const, matchIndex: 0, caughtUp: true })),
        // A learner whose process is down does not catch up.
        ...learners.map((id) => ({
          id,
          role: 'learner' as const,
          matchIndex: 0,
          caughtUp: (this.learnerLooks.get(id) ?? 0) >= 2 && this.alive.has(id),
        })),
      ],
    };
  }

  async clock(id: string, change: { offsetMs?: number; rate?: number; bumpMs?: number }): Promise<ClockState> {
    this.calls.push(`clock ${id} ${JSON.stringify(change)}`);
    const c = this.clocks.get(id) ?? { offsetMs: 0, rate: 1 };
    const next = {
      offsetMs: (change.offsetMs ?? c.offsetMs) + (change.bumpMs ?? 0),
      rate: change.rate ?? c.rate,
    };
    this.clocks.set(id, next);
    return { nowMs: 0, ...next };
  }
}

/** A nemesis context over a fake cluster: seeded rngs, no log, never stopped; `leaderWaitMs` as the kind under test needs. */
export function fakeContext(cluster: FakeCluster, seed: number, leaderWaitMs = 0): NemesisContext {
  return {
    cluster,
    net: cluster.net,
    rng: new Rng(seed),
    restartRng: new Rng(seed + 1),
    log: () => {},
    leaderWaitMs,
    isStopped: () => false,
    crashed: () => {},
  };
}

/** Who drops whom, as sorted lists (only the nodes that drop someone): grudges compared in tests. */
export function drops(grudge: Grudge | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [a, bs] of Object.entries(grudge ?? {}).sort(([x], [y]) => x.localeCompare(y))) if (bs.length > 0) out[a] = [...bs].sort();
  return out;
}
