/**
 * Hand-written validators for everything that arrives from the network.
 *
 * A datagram with a valid MAC was sent by someone holding the right key,
 * but that is still not proof that it is well formed: a buggy peer, an older
 * build or a corrupted disk could produce nonsense, and the Raft core trusts
 * the types it is given. So every field of every body is checked against its
 * declared type before anything else sees it: integers non-negative and safe,
 * strings and arrays bounded, enums closed, no unknown fields.
 *
 * Each check returns `null` when the value is fine, or a short description of
 * the first problem (with a path such as `body.entries[3].term`). They never
 * throw on any input.
 */
import {
  SESSION_MODES,
  SESSION_REJECTIONS,
  INVALID_CODES,
  type AdminCommand,
  type AdminMessage,
  type AdminOutcome,
  type ClientMessage,
  type ClientOutcome,
  type KvOp,
  type KvResult,
} from '../protocol.js';
import type { RaftMessage, Role } from '../raft/types.js';
import { decodeConfigEntry } from '../raft/configuration.js';
import { MAX_AWAIT_LEADER_MS } from '../held-requests.js';

/** Node ids, client ids, request ids and cluster names. */
export const MAX_ID_CHARS = 128;
/** Free-form text (error messages, reasons). */
export const MAX_TEXT_CHARS = 1024;
/** Keys, values and entry data: bounded by the datagram itself; the configured byte limits are enforced by `node/kv/limits.ts` with a clear client error. */
export const MAX_PAYLOAD_CHARS = 65_507;
/** An AppendEntries never carries more entries than this (the byte limit binds long before). */
export const MAX_ENTRIES_PER_MESSAGE = 8192;
/** Bounds on the free-form parts of a status report. */
export const MAX_STATUS_MAP_KEYS = 64;
export const MAX_UNSAFE_FLAGS = 32;

export type Check = string | null;
type Obj = Record<string, unknown>;

/** An address-validation token (`address-validation.ts`): base64url, bounded. */
export const MAX_TOKEN_CHARS = 64;

export type BodyType = RaftMessage['type'] | ClientMessage['type'] | AdminMessage['type'] | 'hello';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} chars` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

export function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` is a plain object with exactly `keys` (no missing, no extra fields). */
function shape(v: unknown, keys: readonly string[], path: string, optionalKeys: readonly string[] = []): Check {
  if (!isRecord(v)) return `${path}: expected an object, got ${describe(v)}`;
  const own = Object.keys(v);
  if (own.length === keys.length) {
    // Fast path: exactly `keys`, in the declared order (how the node builds and JSON preserves them).
    let i = 0;
    while (i < own.length && own[i] === keys[i]) i++;
    if (i === own.length) return null;
  }
  for (const k of own) {
    if (!keys.includes(k) && !optionalKeys.includes(k)) return `${path}: unexpected field ${JSON.stringify(k.slice(0, 40))}`;
  }
  for (const k of keys) {
    if (!Object.hasOwn(v, k)) return `${path}: missing field "${k}"`;
  }
  return null;
}

function nat(v: unknown, path: string, field = ''): Check {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
    ? null
    : `${path}${field}: expected a non-negative safe integer, got ${describe(v)}`;
}

function positive(v: unknown, path: string, field = ''): Check {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
    ? null
    : `${path}${field}: expected a safe integer >= 1, got ${describe(v)}`;
}

function finite(v: unknown, path: string, field = ''): Check {
  return typeof v === 'number' && Number.isFinite(v) ? null : `${path}${field}: expected a finite number, got ${describe(v)}`;
}

function bool(v: unknown, path: string, field = ''): Check {
  return typeof v === 'boolean' ? null : `${path}${field}: expected a boolean, got ${describe(v)}`;
}

function str(v: unknown, maxChars: number, path: string, field = ''): Check {
  if (typeof v !== 'string') return `${path}${field}: expected a string, got ${describe(v)}`;
  return v.length <= maxChars ? null : `${path}${field}: string of ${v.length} chars exceeds the limit of ${maxChars}`;
}

function id(v: unknown, path: string, field = ''): Check {
  const c = str(v, MAX_ID_CHARS, path, field);
  if (c !== null) return c;
  return (v as string).length > 0 ? null : `${path}${field}: must not be empty`;
}

function nullableId(v: unknown, path: string, field = ''): Check {
  return v === null ? null : id(v, path, field);
}

function nullableStr(v: unknown, maxChars: number, path: string, field = ''): Check {
  return v === null ? null : str(v, maxChars, path, field);
}

function oneOf(v: unknown, values: readonly string[], path: string, field = ''): Check {
  return typeof v === 'string' && values.includes(v) ? null : `${path}${field}: expected one of ${values.join('|')}, got ${describe(v)}`;
}

/** First non-null check, evaluated lazily in order. */
function first(...checks: ReadonlyArray<() => Check>): Check {
  for (const c of checks) {
    const r = c();
    if (r !== null) return r;
  }
  return null;
}

/** Looks up a validator by tag without touching the prototype chain (`"constructor"` is not a message type). */
function lookup<T>(table: Readonly<Record<string, T>>, tag: unknown): T | undefined {
  return typeof tag === 'string' && Object.hasOwn(table, tag) ? table[tag] : undefined;
}

// ---------------------------------------------------------------- Raft

export function checkEntry(v: unknown, path: string): Check {
  const s = shape(v, ['term', 'index', 'type', 'data'], path);
  if (s !== null) return s;
  const e = v as Obj;
  return (
    positive(e['term'], path, '.term') ??
    positive(e['index'], path, '.index') ??
    oneOf(e['type'], ['command', 'noop', 'config'], path, '.type') ??
    str(e['data'], MAX_PAYLOAD_CHARS, path, '.data') ??
    (e['type'] === 'config' ? configEntryProblem(e['data'] as string, path) : null)
  );
}

/**
 * A `config` entry must carry a well-formed configuration change (the core
 * asserts on a malformed one in its log, node/raft/configuration.ts), so one
 * is refused here, with the datagram, like any other malformed field.
 */
export function configEntryProblem(data: string, path: string): Check {
  const decoded = decodeConfigEntry(data);
  return decoded.ok ? null : `${path}.data: ${decoded.error}`;
}

function checkEntries(v: unknown, path: string): Check {
  if (!Array.isArray(v)) return `${path}: expected an array, got ${describe(v)}`;
  if (v.length > MAX_ENTRIES_PER_MESSAGE) return `${path}: ${v.length} entries exceed the limit of ${MAX_ENTRIES_PER_MESSAGE}`;
  for (let i = 0; i < v.length; i++) {
    const c = checkEntry(v[i], `${path}[${i}]`);
    if (c !== null) return c;
  }
  return null;
}

const raftValidators: { readonly [K in RaftMessage['type']]: (o: Obj, p: string) => Check } = {
  request_vote: (o, p) =>
    shape(o, ['type', 'term', 'from', 'to', 'lastLogIndex', 'lastLogTerm', 'preVote'], p, ['leadershipTransfer', 'campaign']) ??
    nat(o['term'], p, '.term') ??
    id(o['from'], p, '.from') ??
    id(o['to'], p, '.to') ??
    nat(o['lastLogIndex'], p, '.lastLogIndex') ??
    nat(o['lastLogTerm'], p, '.lastLogTerm') ??
    bool(o['preVote'], p, '.preVote') ??
    (o['leadershipTransfer'] === undefined ? null : bool(o['leadershipTransfer'], p, '.leadershipTransfer')) ??
    (o['campaign'] === undefined ? null : nat(o['campaign'], p, '.campaign')),
  request_vote_response: (o, p) =>
    shape(o, ['type', 'term', 'from', 'to', 'voteGranted', 'preVote'], p, ['campaign']) ??
    nat(o['term'], p, '.term') ??
    id(o['from'], p, '.from') ??
    id(o['to'], p, '.to') ??
    bool(o['voteGranted'], p, '.voteGranted') ??
    bool(o['preVote'], p, '.preVote') ??
    (o['campaign'] === undefined ? null : nat(o['campaign'], p, '.campaign')),
  append_entries: (o, p) =>
    shape(o, ['type', 'term', 'from', 'to', 'prevLogIndex', 'prevLogTerm', 'entries', 'leaderCommit', 'seq'], p, ['removedAt']) ??
    nat(o['term'], p, '.term') ??
    id(o['from'], p, '.from') ??
    id(o['to'], p, '.to') ??
    nat(o['prevLogIndex'], p, '.prevLogIndex') ??
    nat(o['prevLogTerm'], p, '.prevLogTerm') ??
    checkEntries(o['entries'], `${p}.entries`) ??
    nat(o['leaderCommit'], p, '.leaderCommit') ??
    nat(o['seq'], p, '.seq') ??
    (o['removedAt'] === undefined ? null : nat(o['removedAt'], p, '.removedAt')),
  append_entries_response: (o, p) =>
    shape(o, ['type', 'term', 'from', 'to', 'success', 'matchIndex', 'conflictTerm', 'conflictIndex', 'seq'], p) ??
    nat(o['term'], p, '.term') ??
    id(o['from'], p, '.from') ??
    id(o['to'], p, '.to') ??
    bool(o['success'], p, '.success') ??
    nat(o['matchIndex'], p, '.matchIndex') ??
    (o['conflictTerm'] === null ? null : nat(o['conflictTerm'], p, '.conflictTerm')) ??
    nat(o['conflictIndex'], p, '.conflictIndex') ??
    nat(o['seq'], p, '.seq'),
  timeout_now: (o, p) =>
    shape(o, ['type', 'term', 'from', 'to'], p) ?? nat(o['term'], p, '.term') ?? id(o['from'], p, '.from') ?? id(o['to'], p, '.to'),
};

export function isRaftMessageType(t: unknown): t is RaftMessage['type'] {
  return lookup(raftValidators, t) !== undefined;
}

// ---------------------------------------------------------------- KV

const kvOpValidators: { readonly [K in KvOp['type']]: (o: Obj, p: string) => Check } = {
  get: (o, p) => shape(o, ['type', 'key'], p) ?? str(o['key'], MAX_PAYLOAD_CHARS, p, '.key'),
  put: (o, p) =>
    shape(o, ['type', 'key', 'value'], p) ?? str(o['key'], MAX_PAYLOAD_CHARS, p, '.key') ?? str(o['value'], MAX_PAYLOAD_CHARS, p, '.value'),
  delete: (o, p) => shape(o, ['type', 'key'], p) ?? str(o['key'], MAX_PAYLOAD_CHARS, p, '.key'),
  cas: (o, p) =>
    shape(o, ['type', 'key', 'expected', 'value'], p) ??
    str(o['key'], MAX_PAYLOAD_CHARS, p, '.key') ??
    nullableStr(o['expected'], MAX_PAYLOAD_CHARS, p, '.expected') ??
    str(o['value'], MAX_PAYLOAD_CHARS, p, '.value'),
};

/** `ClientRequest.awaitLeader`: a node id and 1-MAX_AWAIT_LEADER_MS ms (node/held-requests.ts). */
export function checkAwaitLeader(v: unknown, path: string): Check {
  return (
    shape(v, ['otherThan', 'maxMs'], path) ??
    id((v as Obj)['otherThan'], path, '.otherThan') ??
    between((v as Obj)['maxMs'], 1, MAX_AWAIT_LEADER_MS, path, '.maxMs')
  );
}

function between(v: unknown, min: number, max: number, path: string, field = ''): Check {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
    ? null
    : `${path}${field}: expected an integer in ${min}-${max}, got ${describe(v)}`;
}

export function checkKvOp(v: unknown, path: string): Check {
  if (!isRecord(v)) return `${path}: expected an object, got ${describe(v)}`;
  const f = lookup(kvOpValidators, v['type']);
  if (f === undefined) return `${path}.type: unknown op type ${describe(v['type'])}`;
  return f(v, path);
}

const outcomeValidators: { readonly [K in ClientOutcome['status']]: (o: Obj, p: string) => Check } = {
  ok: (o, p) => shape(o, ['status', 'value'], p) ?? nullableStr(o['value'], MAX_PAYLOAD_CHARS, p, '.value'),
  cas_mismatch: (o, p) => shape(o, ['status', 'actual'], p) ?? nullableStr(o['actual'], MAX_PAYLOAD_CHARS, p, '.actual'),
  invalid: (o, p) =>
    shape(o, ['status', 'code', 'message'], p) ??
    oneOf(o['code'], INVALID_CODES, p, '.code') ??
    str(o['message'], MAX_TEXT_CHARS, p, '.message'),
  not_leader: (o, p) => shape(o, ['status', 'leaderHint'], p) ?? nullableId(o['leaderHint'], p, '.leaderHint'),
  unavailable: (o, p) => shape(o, ['status', 'reason'], p) ?? str(o['reason'], MAX_TEXT_CHARS, p, '.reason'),
  rejected: (o, p) =>
    shape(o, ['status', 'code', 'message'], p) ??
    oneOf(o['code'], SESSION_REJECTIONS, p, '.code') ??
    str(o['message'], MAX_TEXT_CHARS, p, '.message'),
};

const kvResultStatuses: readonly KvResult['status'][] = ['ok', 'cas_mismatch', 'invalid'];

export function checkClientOutcome(v: unknown, path: string): Check {
  if (!isRecord(v)) return `${path}: expected an object, got ${describe(v)}`;
  const f = lookup(outcomeValidators, v['status']);
  if (f === undefined) return `${path}.status: unknown status ${describe(v['status'])}`;
  return f(v, path);
}

/** A state-machine result (the subset of outcomes the session table caches). */
export function checkKvResult(v: unknown, path: string): Check {
  if (!isRecord(v)) return `${path}: expected an object, got ${describe(v)}`;
  const c = oneOf(v['status'], kvResultStatuses, path, '.status');
  return c ?? checkClientOutcome(v, path);
}

// ---------------------------------------------------------------- client

const roles: readonly Role[] = ['follower', 'pre_candidate', 'candidate', 'leader'];

function checkSnapshotStatus(v: unknown, p: string): Check {
  const s = shape(v, ['firstIndex', 'latest', 'taken', 'installed'], p);
  if (s !== null) return s;
  const o = v as Obj;
  return first(
    () => nat(o['firstIndex'], p, '.firstIndex'),
    () => nat(o['taken'], p, '.taken'),
    () => nat(o['installed'], p, '.installed'),
    () => {
      if (o['latest'] === null) return null;
      const l = shape(o['latest'], ['index', 'term', 'bytes'], `${p}.latest`);
      if (l !== null) return l;
      const m = o['latest'] as Obj;
      return first(
        () => nat(m['index'], p, '.latest.index'),
        () => nat(m['term'], p, '.latest.term'),
        () => nat(m['bytes'], p, '.latest.bytes'),
      );
    },
  );
}

function checkNodeStatus(v: unknown, p: string): Check {
  const s = shape(
    v,
    ['id', 'role', 'currentTerm', 'votedFor', 'leaderId', 'commitIndex', 'lastApplied', 'lastLogIndex', 'clock', 'dropped', 'unsafe'],
    p,
    ['snapshots', 'configuration', 'uptimeMs', 'runQueueWaitMs'],
  );
  if (s !== null) return s;
  const o = v as Obj;
  return first(
    () => id(o['id'], p, '.id'),
    () => oneOf(o['role'], roles, p, '.role'),
    () => nat(o['currentTerm'], p, '.currentTerm'),
    () => nullableId(o['votedFor'], p, '.votedFor'),
    () => nullableId(o['leaderId'], p, '.leaderId'),
    () => nat(o['commitIndex'], p, '.commitIndex'),
    () => nat(o['lastApplied'], p, '.lastApplied'),
    () => nat(o['lastLogIndex'], p, '.lastLogIndex'),
    () => {
      const c = shape(o['clock'], ['nowMs', 'offsetMs', 'rate'], `${p}.clock`);
      if (c !== null) return c;
      const k = o['clock'] as Obj;
      return first(
        () => finite(k['nowMs'], `${p}.clock.nowMs`),
        () => finite(k['offsetMs'], `${p}.clock.offsetMs`),
        () =>
          typeof k['rate'] === 'number' && Number.isFinite(k['rate']) && k['rate'] > 0
            ? null
            : `${p}.clock.rate: expected a positive number`,
      );
    },
    () => {
      const d = o['dropped'];
      if (!isRecord(d)) return `${p}.dropped: expected an object, got ${describe(d)}`;
      const keys = Object.keys(d);
      if (keys.length > MAX_STATUS_MAP_KEYS) return `${p}.dropped: ${keys.length} keys exceed the limit of ${MAX_STATUS_MAP_KEYS}`;
      for (const k of keys) {
        const c = id(k, `${p}.dropped key`) ?? nat(d[k], `${p}.dropped.${k}`);
        if (c !== null) return c;
      }
      return null;
    },
    () => (o['snapshots'] === undefined ? null : checkSnapshotStatus(o['snapshots'], `${p}.snapshots`)),
    () => {
      const c = o['configuration'];
      if (c === undefined) return null;
      return (
        shape(c, ['voters', 'learners'], `${p}.configuration`) ??
        memberList((c as Obj)['voters'], `${p}.configuration.voters`) ??
        memberList((c as Obj)['learners'], `${p}.configuration.learners`)
      );
    },
    () => (o['uptimeMs'] === undefined ? null : nat(o['uptimeMs'], p, '.uptimeMs')),
    () => (o['runQueueWaitMs'] === undefined ? null : nat(o['runQueueWaitMs'], p, '.runQueueWaitMs')),
    () => {
      const u = o['unsafe'];
      if (!Array.isArray(u)) return `${p}.unsafe: expected an array, got ${describe(u)}`;
      if (u.length > MAX_UNSAFE_FLAGS) return `${p}.unsafe: ${u.length} flags exceed the limit of ${MAX_UNSAFE_FLAGS}`;
      for (let i = 0; i < u.length; i++) {
        const c = id(u[i], `${p}.unsafe[${i}]`);
        if (c !== null) return c;
      }
      return null;
    },
  );
}

const clientValidators: { readonly [K in ClientMessage['type']]: (o: Obj, p: string) => Check } = {
  client_request: (o, p) =>
    shape(o, ['type', 'clientId', 'instance', 'seq', 'op'], p, ['awaitLeader', 'session']) ??
    id(o['clientId'], p, '.clientId') ??
    nat(o['instance'], p, '.instance') ??
    nat(o['seq'], p, '.seq') ??
    checkKvOp(o['op'], `${p}.op`) ??
    (o['awaitLeader'] === undefined ? null : checkAwaitLeader(o['awaitLeader'], `${p}.awaitLeader`)) ??
    (o['session'] === undefined ? null : oneOf(o['session'], SESSION_MODES, p, '.session')),
  client_response: (o, p) =>
    shape(o, ['type', 'clientId', 'seq', 'outcome'], p) ??
    id(o['clientId'], p, '.clientId') ??
    nat(o['seq'], p, '.seq') ??
    checkClientOutcome(o['outcome'], `${p}.outcome`),
  status_request: (o, p) => shape(o, ['type', 'requestId'], p) ?? id(o['requestId'], p, '.requestId'),
  status_response: (o, p) =>
    shape(o, ['type', 'requestId', 'status'], p) ?? id(o['requestId'], p, '.requestId') ?? checkNodeStatus(o['status'], `${p}.status`),
  retry: (o, p) => shape(o, ['type', 'token'], p) ?? token(o['token'], `${p}.token`),
};

/** A list of member ids, bounded by the core's MAX_MEMBERS. */
function memberList(v: unknown, p: string): Check {
  if (!Array.isArray(v)) return `${p}: expected an array, got ${describe(v)}`;
  if (v.length > MAX_MEMBER_IDS) return `${p}: ${v.length} members exceed the limit of ${MAX_MEMBER_IDS}`;
  for (let i = 0; i < v.length; i++) {
    const c = id(v[i], `${p}[${i}]`);
    if (c !== null) return c;
  }
  return null;
}

/** Bound on the member lists of a status (the core's MAX_MEMBERS, node/raft/configuration.ts). */
export const MAX_MEMBER_IDS = 32;

const adminCommandValidators: { readonly [K in AdminCommand['type']]: (o: Obj, p: string) => Check } = {
  add: (o, p) => shape(o, ['type', 'node'], p) ?? id(o['node'], p, '.node'),
  promote: (o, p) => shape(o, ['type', 'node'], p) ?? id(o['node'], p, '.node'),
  remove: (o, p) => shape(o, ['type', 'node'], p) ?? id(o['node'], p, '.node'),
  status: (o, p) => shape(o, ['type'], p),
};

function checkMembership(v: unknown, p: string): Check {
  const s = shape(v, ['leaderId', 'term', 'commitIndex', 'lastLogIndex', 'voters', 'learners', 'configurationCommitted', 'members'], p);
  if (s !== null) return s;
  const o = v as Obj;
  return first(
    () => id(o['leaderId'], p, '.leaderId'),
    () => nat(o['term'], p, '.term'),
    () => nat(o['commitIndex'], p, '.commitIndex'),
    () => nat(o['lastLogIndex'], p, '.lastLogIndex'),
    () => memberList(o['voters'], `${p}.voters`),
    () => memberList(o['learners'], `${p}.learners`),
    () => bool(o['configurationCommitted'], p, '.configurationCommitted'),
    () => {
      const m = o['members'];
      if (!Array.isArray(m)) return `${p}.members: expected an array, got ${describe(m)}`;
      if (m.length > MAX_MEMBER_IDS) return `${p}.members: ${m.length} members exceed the limit of ${MAX_MEMBER_IDS}`;
      for (let i = 0; i < m.length; i++) {
        const q = `${p}.members[${i}]`;
        const c =
          shape(m[i], ['id', 'role', 'matchIndex', 'caughtUp'], q) ??
          id((m[i] as Obj)['id'], q, '.id') ??
          oneOf((m[i] as Obj)['role'], ['voter', 'learner'], q, '.role') ??
          nat((m[i] as Obj)['matchIndex'], q, '.matchIndex') ??
          bool((m[i] as Obj)['caughtUp'], q, '.caughtUp');
        if (c !== null) return c;
      }
      return null;
    },
  );
}

const adminOutcomeValidators: { readonly [K in AdminOutcome['status']]: (o: Obj, p: string) => Check } = {
  ok: (o, p) => shape(o, ['status', 'membership'], p) ?? checkMembership(o['membership'], `${p}.membership`),
  not_leader: (o, p) => shape(o, ['status', 'leaderHint'], p) ?? nullableId(o['leaderHint'], p, '.leaderHint'),
  refused: (o, p) => shape(o, ['status', 'message'], p) ?? str(o['message'], MAX_TEXT_CHARS, p, '.message'),
  unavailable: (o, p) => shape(o, ['status', 'reason'], p) ?? str(o['reason'], MAX_TEXT_CHARS, p, '.reason'),
};

const adminValidators: { readonly [K in AdminMessage['type']]: (o: Obj, p: string) => Check } = {
  admin_request: (o, p) => {
    const s = shape(o, ['type', 'requestId', 'command'], p) ?? id(o['requestId'], p, '.requestId');
    if (s !== null) return s;
    const command = o['command'];
    if (!isRecord(command)) return `${p}.command: expected an object, got ${describe(command)}`;
    const f = lookup(adminCommandValidators, command['type']);
    return f === undefined ? `${p}.command.type: unknown command ${describe(command['type'])}` : f(command, `${p}.command`);
  },
  admin_response: (o, p) => {
    const s = shape(o, ['type', 'requestId', 'outcome'], p) ?? id(o['requestId'], p, '.requestId');
    if (s !== null) return s;
    const outcome = o['outcome'];
    if (!isRecord(outcome)) return `${p}.outcome: expected an object, got ${describe(outcome)}`;
    const f = lookup(adminOutcomeValidators, outcome['status']);
    return f === undefined ? `${p}.outcome.status: unknown status ${describe(outcome['status'])}` : f(outcome, `${p}.outcome`);
  },
};

/** Whether a body type is an admin message (the admin key domain's only bodies). */
export function isAdminMessageType(t: unknown): t is AdminMessage['type'] {
  return t === 'admin_request' || t === 'admin_response';
}

/** Transport control between nodes (`protocol.ts` Hello): no fields besides its type. */
const helloValidators: { readonly hello: (o: Obj, p: string) => Check } = {
  hello: (o, p) => shape(o, ['type'], p),
};

const tokenPattern = /^[A-Za-z0-9_-]+$/;

function token(v: unknown, path: string): Check {
  const c = str(v, MAX_TOKEN_CHARS, path);
  if (c !== null) return c;
  return tokenPattern.test(v as string) ? null : `${path}: expected base64url characters`;
}

/** Any message body: a Raft peer message or a client-protocol message. Unknown `type` is an error. */
export function checkBody(v: unknown, path: string): Check {
  if (!isRecord(v)) return `${path}: expected an object, got ${describe(v)}`;
  const t = v['type'];
  const f =
    lookup<(o: Obj, p: string) => Check>(raftValidators, t) ??
    lookup(clientValidators, t) ??
    lookup(adminValidators, t) ??
    lookup(helloValidators, t);
  if (f === undefined) return `${path}.type: unknown message type ${describe(t)}`;
  return f(v, path);
}

/**
 * The envelope around a body. For Raft messages the envelope's `from`/`to`
 * must agree with the body's: they are the same claim made twice, and a
 * disagreement can only come from a bug or a forgery.
 */
export function checkEnvelopeShape(v: unknown): Check {
  const s = shape(v, ['cluster', 'from', 'to', 'body'], 'envelope', ['token']);
  if (s !== null) return s;
  const o = v as Obj;
  return (
    id(o['cluster'], 'envelope.cluster') ??
    id(o['from'], 'envelope.from') ??
    id(o['to'], 'envelope.to') ??
    (o['token'] === undefined ? null : token(o['token'], 'envelope.token'))
  );
}

export function checkEnvelopeBody(env: Obj): Check {
  const c = checkBody(env['body'], 'body');
  if (c !== null) return c;
  const body = env['body'] as Obj;
  if (isRaftMessageType(body['type'])) {
    if (body['from'] !== env['from']) return 'body.from: differs from envelope.from';
    if (body['to'] !== env['to']) return 'body.to: differs from envelope.to';
  }
  return null;
}
