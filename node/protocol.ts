/**
 * The client protocol: what a client (the harness, the benchmark, a person
 * with `node/client.ts`) sends to any node, and what the node answers. These
 * travel in the same authenticated envelope as peer messages
 * (`node/transport/codec.ts`), to the node's one UDP socket.
 *
 * Outcomes are typed values. The client library turns them into the three
 * outcomes the harness records: ok (it happened), a definite failure (it
 * certainly did not happen: `cas_mismatch`, `invalid`), or indeterminate
 * (`timeout`: it may or may not have happened).
 */
import type { NodeId, Role, SnapshotMeta } from './raft/types.js';

export type KvOp =
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string }
  /** Sets `key` to `value` only if it currently holds `expected` (`null`: the key is absent). */
  | { readonly type: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type KvOpType = KvOp['type'];

/**
 * One client request. `(clientId, seq)` identifies it across retries: the
 * replicated state machine remembers the last `seq` it applied per client,
 * a digest of that op and its result (Raft dissertation §6.3), so a retried
 * write is applied at most once. A client has at most one request
 * outstanding; `seq` increases by one per new request (reads included,
 * though reads are not logged).
 *
 * `instance` is a random number a client draws once per client object. The
 * session a clientId opens belongs to the instance that opened it: another
 * instance using the same clientId is refused with a definite error
 * (`session_conflict`) instead of sharing, or being answered from, a session
 * whose history it does not know.
 */
export interface ClientRequest {
  readonly type: 'client_request';
  readonly clientId: string;
  readonly instance: number;
  readonly seq: number;
  readonly op: KvOp;
  /**
   * Wait for a leader (node/held-requests.ts): a node that is not the leader
   * and knows none, or only `otherThan` (a node the client suspects is down),
   * may hold the request up to `maxMs` (1-1000) until it learns another
   * leader, instead of answering `not_leader` at once. Absent: answer at once.
   */
  readonly awaitLeader?: { readonly otherThan: NodeId; readonly maxMs: number };
  /**
   * How the request relates to its session (dissertation §6.3, explicit
   * registration). `open`: a `get` that is logged, not served as a read:
   * it opens the instance's session (the client library sends one before
   * its first write, and after `session_expired`). `existing`: a write
   * whose instance opened its session earlier; if the session is gone
   * (evicted), it is refused as `session_expired` and never applied, so a
   * retry that arrives after its session's eviction cannot apply a write a
   * second time. Absent: the session is opened by the first command that
   * arrives (how every command was applied before: the model checker's
   * clients, older logs).
   */
  readonly session?: SessionMode;
}

export type SessionMode = 'open' | 'existing';

/** The session modes, by their position (the binary forms send it). */
export const SESSION_MODES: readonly SessionMode[] = ['open', 'existing'];

/** The state-machine result of an op that was applied (or, for a read, served). */
export type KvResult =
  /** get: the value (null: absent). put/delete/cas: `value` is the value now stored (null after delete). */
  | { readonly status: 'ok'; readonly value: string | null }
  /** cas precondition false: definite failure, nothing changed. */
  | { readonly status: 'cas_mismatch'; readonly actual: string | null }
  /**
   * Rejected before it could take effect (too large, malformed, or, when it
   * was applied, the state machine's stored form full: `state_full`,
   * kv/state-machine.ts MAX_STATE_BYTES): definite failure.
   */
  | { readonly status: 'invalid'; readonly code: InvalidCode; readonly message: string };

/** Why an op was `invalid`. Appended to, never reordered: the binary client form sends the position (client-binary.ts). */
export const INVALID_CODES = ['key_too_large', 'value_too_large', 'malformed', 'state_full'] as const;
export type InvalidCode = (typeof INVALID_CODES)[number];

export type ClientOutcome =
  | KvResult
  /** This node is not the leader; retry at `leaderHint` (null: unknown). The request was not applied by this node. */
  | { readonly status: 'not_leader'; readonly leaderHint: NodeId | null }
  /**
   * The node could not serve the request now (no quorum confirmed, proposal
   * dropped under back-pressure, leadership lost while the request was
   * pending). For a write this is NOT a definite failure: the entry may
   * still commit, so the client retries with the same (clientId, seq).
   */
  | { readonly status: 'unavailable'; readonly reason: string }
  /** The session table refused the request (see SessionRejection). */
  | { readonly status: 'rejected'; readonly code: SessionRejection; readonly message: string };

/**
 * Why the session table refused a request:
 * - `session_conflict`: the clientId's session belongs to another client
 *   instance. Definite: an op of this instance was never applied under that
 *   session and never will be while it lives.
 * - `op_mismatch`: this (clientId, seq) was applied with a different op.
 *   Definite: this op was not applied as that seq, and never will be.
 * - `stale_seq`: the session has moved past this seq. The op will not be
 *   applied from now on, but it may have been applied before: NOT definite.
 *   (A client only gets this for an op it is still waiting on if another
 *   copy of the same instance advanced its session.)
 * - `session_expired`: a write sent as `existing` whose session the table
 *   no longer holds (evicted, sessions.ts). Not applied from now on, but an
 *   earlier attempt may have been applied before the eviction: NOT
 *   definite. The client opens a new session before its next write.
 */
export type SessionRejection = 'session_conflict' | 'op_mismatch' | 'stale_seq' | 'session_expired';

/** Appended to, never reordered: the binary client form sends the position (client-binary.ts). */
export const SESSION_REJECTIONS: readonly SessionRejection[] = ['session_conflict', 'op_mismatch', 'stale_seq', 'session_expired'];

export interface ClientResponse {
  readonly type: 'client_response';
  readonly clientId: string;
  readonly seq: number;
  readonly outcome: ClientOutcome;
}

export interface StatusRequest {
  readonly type: 'status_request';
  readonly requestId: string;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly currentTerm: number;
  /** The candidate this node voted for in currentTerm (what it keeps on stable storage, Figure 2). */
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  /** The node's injected clock: what `now()` reads and how fast it runs (see `node/clock/`). */
  readonly clock: { readonly nowMs: number; readonly offsetMs: number; readonly rate: number };
  /** Datagrams dropped on receipt, by reason (malformed, bad_mac, oversized, wrong_cluster, ...). */
  readonly dropped: Readonly<Record<string, number>>;
  readonly unsafe: readonly string[];
  /** Snapshots and compaction (issue 18): where the log starts, the newest durable snapshot, how many were taken and installed since start. */
  readonly snapshots?: SnapshotStatus;
  /** The configuration in effect at this node (the newest in its log, dissertation §4.1); empty lists for a joiner that knows none yet. */
  readonly configuration?: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
  /**
   * ms since this node's host started (its own monotonic clock): when its
   * core began counting its first election timeout, the promise a restarted
   * node keeps for a lease it may be holding up (thesis §6.4.1). The harness
   * times lease-restart cycles with it (harness/nemesis/kinds/lease-restart.ts).
   */
  readonly uptimeMs?: number;
  /**
   * ms this process has waited for a CPU since it started (Linux
   * /proc/self/schedstat, node/util/schedstat.ts); absent where unreadable.
   * The harness's starvation monitor reads it for nodes on other hosts.
   */
  readonly runQueueWaitMs?: number;
}

export interface SnapshotStatus {
  /** The first index still in the log (1 until the first compaction). */
  readonly firstIndex: number;
  /** The newest durable snapshot, or null. */
  readonly latest: { readonly index: number; readonly term: number; readonly bytes: number } | null;
  /** Own snapshots saved, and snapshots installed from a leader, since this process started. */
  readonly taken: number;
  readonly installed: number;
}

export interface StatusResponse {
  readonly type: 'status_response';
  readonly requestId: string;
  readonly status: NodeStatus;
}

/**
 * A node's answer to a request from an address that has not yet proved it
 * receives what is sent to it (QUIC's address validation, RFC 9000 §8.1):
 * the request was not served; send it again with `token` in the envelope.
 * The answer is small, so a spoofed source address gets at most a few times
 * the bytes the spoofer sent (`node/transport/address-validation.ts`).
 */
export interface Retry {
  readonly type: 'retry';
  readonly token: string;
}

export type ClientMessage = ClientRequest | ClientResponse | StatusRequest | StatusResponse | Retry;

/**
 * Membership administration (issue 18; dissertation ch. 4), sent by
 * `rift-node admin` or the admin client (node/admin-client.ts) to any node,
 * in the admin key domain (node/transport/keys.ts: a key derived from the
 * peer secret, never from the client secret). A node that is not the leader
 * answers `not_leader` with a hint. `add` makes a node a learner (§4.2.1),
 * `promote` makes a caught-up learner a voter, `remove` takes out a voter or
 * a learner (§4.1, one server at a time); each is answered once its
 * configuration entry is committed. `status` reads the leader's view.
 */
export type AdminCommand =
  | { readonly type: 'add'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId }
  | { readonly type: 'status' };

export type AdminCommandType = AdminCommand['type'];

export interface AdminRequest {
  readonly type: 'admin_request';
  /** Names the request across retries: a retry of a change is answered, never proposed twice. */
  readonly requestId: string;
  readonly command: AdminCommand;
}

/** One member as the leader sees it. */
export interface MemberProgress {
  readonly id: NodeId;
  readonly role: 'voter' | 'learner';
  /** The highest index known replicated on it (the leader's own: its last log index). */
  readonly matchIndex: number;
  /** Whether its last catch-up round took less than an election timeout (§4.2.1: a learner may be promoted). */
  readonly caughtUp: boolean;
}

/** The configuration in effect at the leader and each member's progress. */
export interface MembershipStatus {
  readonly leaderId: NodeId;
  readonly term: number;
  readonly commitIndex: number;
  readonly lastLogIndex: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Whether the newest configuration entry is committed (a change is in flight when not). */
  readonly configurationCommitted: boolean;
  readonly members: readonly MemberProgress[];
}

export type AdminOutcome =
  /** Done (the change is committed) or, for `status`, the leader's view. */
  | { readonly status: 'ok'; readonly membership: MembershipStatus }
  | { readonly status: 'not_leader'; readonly leaderHint: NodeId | null }
  /** Definite: the change was not made (a learner not caught up, not a member, a change in flight...). */
  | { readonly status: 'refused'; readonly message: string }
  /** Not definite: the change may still commit (leadership lost, its entry replaced); ask `status`. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface AdminResponse {
  readonly type: 'admin_response';
  readonly requestId: string;
  readonly outcome: AdminOutcome;
}

export type AdminMessage = AdminRequest | AdminResponse;

/**
 * Transport control between nodes, never passed to the host: a node
 * announces its incarnation (in the datagram header) to a peer that does not
 * know it yet (`node/transport/peer-replay.ts`).
 */
export interface Hello {
  readonly type: 'hello';
}

/**
 * One chunk of an InstallSnapshot stream (node/raft/types.ts InstallSnapshot,
 * §7 Figure 13's offset/data/done): the leader's driver cuts the snapshot's
 * bytes into datagram-sized pieces (`node/snapshot/streamer.ts`); the
 * follower's driver stages them (`node/snapshot/assembler.ts`) and steps the
 * InstallSnapshot into its core only once every byte is there and `checksum`
 * matches. Every chunk repeats the stream's identity (term, from, seq) and
 * its shape (snapshot, totalBytes, chunkBytes, checksum), so any chunk can
 * start the staging and a chunk that disagrees with its stream is refused.
 * Travels in the peer key domain only, in binary (transport/snapshot-binary.ts).
 */
export interface SnapshotChunk {
  readonly type: 'snapshot_chunk';
  /** The leader's term when it started the stream. */
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** The InstallSnapshot's seq (the leader's AppendEntries counter): names the stream within the term. */
  readonly seq: number;
  readonly snapshot: SnapshotMeta;
  /** Bytes of the whole snapshot (the state machine's serialised form). */
  readonly totalBytes: number;
  /** Every chunk but the last holds exactly this many bytes; chunk k starts at k * chunkBytes. */
  readonly chunkBytes: number;
  /** SHA-256 of the whole snapshot, hex (64 chars). */
  readonly checksum: string;
  readonly offset: number;
  readonly data: Buffer;
}

/**
 * The follower's answer to one chunk: `ok` (held; `offset` names the chunk),
 * `complete` (every byte is there and the checksum matched: the stream is
 * done), or `rejected` (the stream cannot succeed: checksum mismatch, a
 * snapshot over the receiver's bound, a chunk inconsistent with its stream;
 * `reason` says which). Echoes the chunk's term, seq and offset.
 */
export interface SnapshotAck {
  readonly type: 'snapshot_ack';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly seq: number;
  readonly offset: number;
  readonly status: SnapshotAckStatus;
  readonly reason: string;
}

export type SnapshotAckStatus = 'ok' | 'complete' | 'rejected';

/** The two messages of the snapshot transfer between drivers (never seen by the core). */
export type SnapshotTransferMessage = SnapshotChunk | SnapshotAck;

/**
 * Control messages over the IPC channel of a spawned node (never a network
 * port, so only the spawning process can use them).
 * Parent → node: `clock`, `status`. Node → parent: `ready`, `clock_ok`, `status`.
 */
export type ControlRequest =
  | { readonly type: 'clock'; readonly offsetMs?: number; readonly rate?: number; readonly bumpMs?: number }
  | { readonly type: 'status' }
  | { readonly type: 'state_digest' };

export type ControlReply =
  | { readonly type: 'ready'; readonly id: NodeId; readonly host: string; readonly port: number }
  | { readonly type: 'clock_ok'; readonly nowMs: number; readonly offsetMs: number; readonly rate: number }
  | { readonly type: 'status'; readonly status: NodeStatus }
  | { readonly type: 'state_digest'; readonly digest: StateDigest };

/**
 * A digest of a node's whole replicated state (the KV store and the client
 * session table, as its snapshot encodes them) after applying entries
 * 1..appliedIndex. Replicas that applied the same entries must agree on it
 * (State Machine Safety, Figure 3); the harness compares them at the end of
 * a run (harness/run/replicas.ts). Over the control channel only: it costs
 * an encoding of the whole state.
 */
export interface StateDigest {
  readonly appliedIndex: number;
  /** SHA-256 of the snapshot encoding of the state, hex. */
  readonly sha256: string;
}
