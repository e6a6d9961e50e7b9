/**
 * Interning: every distinct node state, message, log and entry payload the
 * search meets is stored once and named by a small integer, so a global
 * state is a handful of integers (mc/world.ts) and a node's reaction to an
 * input, being a function of its own state and that input only, is computed
 * once and looked up afterwards (the transition memo, mc/model.ts). This is
 * what makes exploring millions of global states affordable: the number of
 * distinct node states is far smaller than the number of their
 * combinations.
 *
 * Each node state also carries its fingerprint under every relabelling of
 * the node ids (mc/symmetry.ts), computed on first use from its canonical
 * text: the state serialised with node ids mapped, maps keyed by node id
 * (votes, progress) and lists of node ids (a configuration's voters and
 * learners, which the core keeps sorted) re-sorted, and operator notices
 * left out. A `config` entry's data (issue 18: the change and the
 * configuration it leads to, as JSON text) names nodes inside a string, so
 * it is decoded, relabelled, re-sorted and encoded again
 * (`relabelConfigData`): the entry the relabelled core would have written.
 * Without config entries every text is as before.
 */
import { decodeConfigEntry, encodeConfigEntry } from '../node/raft/configuration.js';
import type { Configuration, Entry, NodeId, Role } from '../node/raft/types.js';
import { describeSteppedMessage, type SteppedMessage } from '../sim/stepped/network.js';
import { durableLog, type SteppedNodeState } from '../sim/stepped/node.js';
import { hashString, lanes } from './hash.js';
import { indexOfId, type Permutations } from './symmetry.js';

/** What the model reads of a node state without decoding it. */
export interface NodeSummary {
  readonly up: boolean;
  readonly role: Role;
  /** Volatile currentTerm when up; the durable one when down. */
  readonly term: number;
  readonly durableTerm: number;
  readonly commitIndex: number;
  /** The node's log: the core's when up, the disk's when down (as a restart rebuilds it); with its compacted start (LogTable). */
  readonly logId: number;
  /** The log's last index (a compacted log holds fewer entries). */
  readonly logLength: number;
  /** Down: the disk holds log entries (a lost tail is possible). */
  readonly storedEntries: boolean;
  /** The host is saving a snapshot its core asked for (the `snapshot` event is enabled). */
  readonly snapshotSave: boolean;
  readonly unsynced: boolean;
  readonly leaderId: NodeId | null;
  /** The host holds client requests (pending writes or reads): its steps can answer clients. */
  readonly clientPending: boolean;
  /** Up: the configuration in effect by §4.1 (the newest in its log, committed or not); null while down. */
  readonly configuration: Configuration | null;
  /** Chunked snapshots: the followers this node streams a snapshot to (a `stream_timeout` each is possible). */
  readonly streamPeers: readonly NodeId[];
}

export interface NodeRecord {
  readonly id: number;
  readonly state: SteppedNodeState;
  readonly summary: NodeSummary;
  /** Fingerprint lanes per permutation: [hi, lo] at 2p, 2p+1; valid where `known` has bit p. */
  readonly hashes: Int32Array;
  known: Uint8Array;
  /** Id-blind signature (own id and other ids anonymised): orders nodes for symmetry. */
  signature: number;
}

function isPairsById(value: unknown[]): boolean {
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string' || indexOfId(item[0]) < 0) return false;
  }
  return value.length > 0;
}

/** A list of node ids (a configuration's members: a set, which the core keeps sorted). */
function isIdList(value: unknown[]): boolean {
  return value.length > 0 && value.every((item) => typeof item === 'string' && indexOfId(item) >= 0);
}

/** Whether `holder[key]` is the data of a `config` log entry (an Entry object's `data`). */
function isConfigData(holder: unknown, key: string, value: unknown): value is string {
  return key === 'data' && typeof value === 'string' && (holder as { type?: unknown }).type === 'config';
}

/**
 * A config entry's data relabelled by `map`: the change's node and the
 * configuration's members mapped, the member lists sorted again (the core
 * keeps them sorted, node/raft/configuration.ts), the same field order
 * (`encodeConfigEntry`): the data the relabelled core would have written.
 */
export function relabelConfigData(text: string, map: ReadonlyMap<NodeId, NodeId>): string {
  const decoded = decodeConfigEntry(text);
  if (!decoded.ok) return text;
  const to = (id: NodeId): NodeId => map.get(id) ?? id;
  const { change, configuration } = decoded.data;
  return encodeConfigEntry({
    change: { type: change.type, node: to(change.node) },
    configuration: { voters: configuration.voters.map(to).sort(), learners: configuration.learners.map(to).sort() },
  });
}

/** A config entry's data id-blind (`@self`, `@peer`), for the signature. */
function anonymiseConfigData(text: string, self: NodeId): string {
  const decoded = decodeConfigEntry(text);
  if (!decoded.ok) return text;
  const anon = (id: NodeId): string => (id === self ? '@self' : '@peer');
  const { change, configuration } = decoded.data;
  return `${change.type} ${anon(change.node)} [${configuration.voters.map(anon).sort().join()}] [${configuration.learners.map(anon).sort().join()}]`;
}

/** Any value (a message) with every node id relabelled by `map`, as encodeNodeState relabels a node state. */
export function relabelValue<T>(value: T, map: ReadonlyMap<NodeId, NodeId>): T {
  return JSON.parse(JSON.stringify(value, relabeller(map))) as T;
}

function relabeller(map: ReadonlyMap<NodeId, NodeId> | null): (this: unknown, key: string, value: unknown) => unknown {
  return function (this: unknown, key: string, value: unknown): unknown {
    if (key === 'notices') return undefined;
    if (map !== null && isConfigData(this, key, value)) return relabelConfigData(value, map);
    if (typeof value === 'string') return map !== null && indexOfId(value) >= 0 ? (map.get(value) ?? value) : value;
    if (Array.isArray(value) && map !== null && isIdList(value)) {
      // Sorted by the mapped ids (the elements themselves are mapped as strings above): the list the relabelled core would hold.
      return value.slice().sort((a, b) => {
        const x = map.get(a as string) ?? '';
        const y = map.get(b as string) ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    if (Array.isArray(value) && map !== null && isPairsById(value)) {
      return value.slice().sort((a, b) => {
        const x = map.get((a as [string])[0]) ?? '';
        const y = map.get((b as [string])[0]) ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    return value;
  };
}

/** The canonical text of a node state under an id mapping (null: as is). */
export function encodeNodeState(state: SteppedNodeState, map: ReadonlyMap<NodeId, NodeId> | null): string {
  return JSON.stringify(state, relabeller(map));
}

/**
 * The host's snapshot fields while there is none (a disk's or a write's null
 * `snapshot`, no save in progress, nothing staged): left out of the
 * signature, so that without --snapshots the signatures, and with them the
 * symmetry candidates (symmetry is not exact: they decide which
 * representatives a state gets) and the sleep sets' ranks, are exactly as
 * before snapshots were modelled, and so are the figures. The fingerprint
 * still covers every field.
 */
function isAbsentSnapshotField(holder: object, key: string, value: unknown): boolean {
  if (key === 'snapshot') return value === null && 'hardState' in holder; // DurableState, DiskWrite (not the core's)
  if (key === 'snapshotSave') return value === null;
  if (key === 'staged') return Array.isArray(value) && value.length === 0;
  return false;
}

/** The id-blind text: `self` for the node's own id, `peer` for every other; id-keyed maps sorted by content. */
function encodeSignature(state: SteppedNodeState, self: NodeId): string {
  const anonymise = function (this: object, key: string, value: unknown): unknown {
    if (key === 'notices' || isAbsentSnapshotField(this, key, value)) return undefined;
    if (isConfigData(this, key, value)) return anonymiseConfigData(value, self);
    if (typeof value === 'string') return indexOfId(value) >= 0 ? (value === self ? '@self' : '@peer') : value;
    if (Array.isArray(value) && isIdList(value)) return value.map((id) => (id === self ? '@self' : '@peer')).sort();
    if (Array.isArray(value) && isPairsById(value)) {
      const texts = value.map((item) => JSON.stringify(item, anonymise));
      return value
        .map((item, i) => [texts[i]!, item] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, item]) => item);
    }
    return value;
  };
  return JSON.stringify(state, anonymise);
}

export class NodeTable {
  private readonly byKey = new Map<string, NodeRecord>();
  private readonly records: NodeRecord[] = [];

  constructor(
    private readonly perms: Permutations,
    private readonly logs: LogTable,
  ) {}

  get size(): number {
    return this.records.length;
  }

  get(id: number): NodeRecord {
    const record = this.records[id];
    if (record === undefined) throw new Error(`mc: no interned node state ${id}`);
    return record;
  }

  /** The record of node `slot`'s state (its own id matters: the same state of n1 and of n2 are different records). */
  intern(slot: number, state: SteppedNodeState): NodeRecord {
    // Plain JSON as the identity: the stepped node builds its state objects field by field in a fixed order.
    const key = `${slot}|${JSON.stringify(state)}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const record: NodeRecord = {
      id: this.records.length,
      state,
      summary: summarise(state, this.logs),
      hashes: new Int32Array(this.perms.perms.length * 2),
      known: new Uint8Array(this.perms.perms.length),
      signature: 0,
    };
    hashString(encodeSignature(state, `n${slot + 1}`));
    record.signature = lanes[0]!;
    this.byKey.set(key, record);
    this.records.push(record);
    return record;
  }

  /** Writes the fingerprint of node state `record` relabelled by permutation `p` into `lanes`. */
  hashUnder(record: NodeRecord, p: number): void {
    if (record.known[p] === 0) {
      hashString(encodeNodeState(record.state, p === 0 ? null : this.perms.idMaps[p]!));
      record.hashes[2 * p] = lanes[0]!;
      record.hashes[2 * p + 1] = lanes[1]!;
      record.known[p] = 1;
    }
    lanes[0] = record.hashes[2 * p]!;
    lanes[1] = record.hashes[2 * p + 1]!;
  }
}

function summarise(state: SteppedNodeState, logs: LogTable): NodeSummary {
  const running = state.running;
  if (running === null) {
    const stored = durableLog(state.durable);
    return {
      up: false,
      role: 'follower',
      term: state.durable.hardState.currentTerm,
      durableTerm: state.durable.hardState.currentTerm,
      commitIndex: 0,
      logId: logs.intern(stored.entries, stored.prevIndex, stored.prevTerm),
      logLength: stored.prevIndex + stored.entries.length,
      storedEntries: state.durable.entries.length > 0,
      snapshotSave: false,
      unsynced: state.unsynced.length > 0,
      leaderId: null,
      clientPending: false,
      configuration: null,
      streamPeers: [],
    };
  }
  const core = running.core;
  return {
    up: true,
    role: core.role,
    term: core.currentTerm,
    durableTerm: state.durable.hardState.currentTerm,
    commitIndex: core.commitIndex,
    logId: logs.intern(core.log, core.logPrevIndex, core.logPrevTerm),
    logLength: core.logPrevIndex + core.log.length,
    storedEntries: state.durable.entries.length > 0,
    snapshotSave: running.snapshotSave !== null,
    unsynced: state.unsynced.length > 0,
    leaderId: core.leaderId,
    clientPending: running.writes.length > 0 || running.reads.length > 0,
    configuration: core.configHistory[core.configHistory.length - 1]?.configuration ?? null,
    streamPeers: running.streams?.map(([peer]) => peer) ?? [],
  };
}

export interface MessageRecord {
  readonly id: number;
  readonly message: SteppedMessage;
  readonly text: string;
  readonly from: number;
  readonly to: number;
  /** It carries a `config` entry, which names nodes inside its data (relabelled by decoding it: relabelConfigData). */
  readonly namesConfig: boolean;
  readonly hashes: Int32Array;
  known: Uint8Array;
}

/**
 * Whether a message names nodes beyond its `from->to` head: a config entry's
 * data, or a snapshot's configuration (with membership changes any set of
 * members; without, every bootstrap voter, which the relabelled text lists
 * the same, so the hash is the head-only one's). A snapshot's bytes are
 * hashed as they are (describeSteppedMessage): a configuration inside them is
 * not relabelled, which only keeps two relabelled states apart (less
 * reduction), never merges two that differ.
 */
function namesConfiguration(message: SteppedMessage): boolean {
  switch (message.type) {
    case 'install_snapshot':
    case 'snapshot_chunk':
      return true;
    case 'append_entries':
      return message.entries.some((entry) => entry.type === 'config');
    default:
      return false;
  }
}

export class MessageTable {
  private readonly byText = new Map<string, MessageRecord>();
  private readonly records: MessageRecord[] = [];

  constructor(private readonly perms: Permutations) {}

  get size(): number {
    return this.records.length;
  }

  get(id: number): MessageRecord {
    const record = this.records[id];
    if (record === undefined) throw new Error(`mc: no interned message ${id}`);
    return record;
  }

  intern(message: SteppedMessage): MessageRecord {
    const text = describeSteppedMessage(message);
    const found = this.byText.get(text);
    if (found !== undefined) return found;
    const record: MessageRecord = {
      id: this.records.length,
      message,
      text,
      from: indexOfId(message.from),
      to: indexOfId(message.to),
      namesConfig: namesConfiguration(message),
      hashes: new Int32Array(this.perms.perms.length * 2),
      known: new Uint8Array(this.perms.perms.length),
    };
    this.byText.set(text, record);
    this.records.push(record);
    return record;
  }

  /** Writes the fingerprint of message `record` relabelled by permutation `p` into `lanes`. */
  hashUnder(record: MessageRecord, p: number): void {
    if (record.known[p] === 0) {
      const map = this.perms.idMaps[p]!;
      if (record.namesConfig) {
        // A config entry names nodes in its data: the relabelled message, described.
        hashString(p === 0 ? record.text : describeSteppedMessage(relabelValue(record.message, map)));
      } else {
        // describeMessage names nodes only in its `from->to` head.
        const head = `${map.get(record.message.from) ?? record.message.from}->${map.get(record.message.to) ?? record.message.to}`;
        hashString(head + record.text.slice(record.text.indexOf(' ')));
      }
      record.hashes[2 * p] = lanes[0]!;
      record.hashes[2 * p + 1] = lanes[1]!;
      record.known[p] = 1;
    }
    lanes[0] = record.hashes[2 * p]!;
    lanes[1] = record.hashes[2 * p + 1]!;
  }
}

/**
 * Logs by content, with their compacted start (§7: entries from prevIndex +
 * 1 on, (prevIndex, prevTerm) the entry a snapshot ends with; 0 and 0 when
 * nothing is compacted), and Log Matching (Figure 3) decided once per pair.
 */
export class LogTable {
  private readonly byKey = new Map<string, number>();
  private readonly logs: (readonly Entry[])[] = [];
  private readonly prevIndices: number[] = [];
  private readonly prevTerms: number[] = [];
  private readonly data = new Map<string, number>();
  private readonly matching = new Map<number, string | null>();

  get size(): number {
    return this.logs.length;
  }

  /** The entries held, from prevIndex(id) + 1 on. */
  entries(id: number): readonly Entry[] {
    const log = this.logs[id];
    if (log === undefined) throw new Error(`mc: no interned log ${id}`);
    return log;
  }

  /** The index of the last compacted entry (0: none). */
  prevIndex(id: number): number {
    return this.prevIndices[id]!;
  }

  prevTerm(id: number): number {
    return this.prevTerms[id]!;
  }

  /** The entry at `index`, undefined when compacted away or past the end. */
  entryAt(id: number, index: number): Entry | undefined {
    return index > this.prevIndices[id]! ? this.entries(id)[index - this.prevIndices[id]! - 1] : undefined;
  }

  /** The term at `index`: an entry's, the compaction point's (the snapshot stands for the prefix); null when unknown. */
  termAt(id: number, index: number): number | null {
    const prev = this.prevIndices[id]!;
    if (index === prev) return this.prevTerms[id]!;
    if (index < prev) return null;
    return this.entries(id)[index - prev - 1]?.term ?? null;
  }

  /** The last index (prevIndex + entries held). */
  lastIndex(id: number): number {
    return this.prevIndices[id]! + this.entries(id).length;
  }

  /** Stable small integer for an entry's payload. */
  dataId(entry: Entry): number {
    const key = entry.type === 'noop' ? `noop|${entry.data}` : entry.data;
    let id = this.data.get(key);
    if (id === undefined) {
      id = this.data.size;
      this.data.set(key, id);
    }
    return id;
  }

  intern(entries: readonly Entry[], prevIndex = 0, prevTerm = 0): number {
    let key = prevIndex === 0 ? '' : `${prevIndex}@${prevTerm}|`;
    for (const entry of entries) key += `${entry.term}:${this.dataId(entry)},`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.logs.length;
      this.byKey.set(key, id);
      this.logs.push(entries);
      this.prevIndices.push(prevIndex);
      this.prevTerms.push(prevTerm);
    }
    return id;
  }

  /**
   * Log Matching (§5.3, Figure 3): if two logs hold an entry with the same
   * index and term, they are identical up to it. Null when it holds;
   * otherwise the first index where it fails. Over a compacted prefix the
   * snapshot's last entry (prevIndex, prevTerm) stands for it: only what
   * both logs still show is compared, terms at a compaction point, whole
   * entries past it.
   */
  logMatchingViolation(a: number, b: number): string | null {
    if (a === b) return null;
    const key = a < b ? a * 0x100000 + b : b * 0x100000 + a;
    const known = this.matching.get(key);
    if (known !== undefined) return known;
    const from = Math.max(1, this.prevIndex(a), this.prevIndex(b));
    let verdict: string | null = null;
    // The highest index with the same term in both logs: everything both show up to it must be identical.
    for (let i = Math.min(this.lastIndex(a), this.lastIndex(b)); i >= from && verdict === null; i--) {
      const term = this.termAt(a, i);
      if (term === null || term !== this.termAt(b, i)) continue;
      for (let j = from; j <= i; j++) {
        const ta = this.termAt(a, j);
        const tb = this.termAt(b, j);
        const ex = this.entryAt(a, j);
        const ey = this.entryAt(b, j);
        const differ = ta !== tb || (ex !== undefined && ey !== undefined && (ex.type !== ey.type || ex.data !== ey.data));
        if (differ) {
          verdict = `both logs hold an entry of term ${term} at index ${i}, but differ at index ${j} (${j}@${ta ?? '?'} vs ${j}@${tb ?? '?'})`;
          break;
        }
      }
      break;
    }
    this.matching.set(key, verdict);
    return verdict;
  }
}
