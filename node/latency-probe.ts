/**
 * Stage marks for the latency breakdown (`npm run bench -- latency`).
 *
 * A node started with `--latency-trace FILE` records, for every write and
 * read it handles, the monotonic time (performance.now, this process's own
 * clock) at which each stage of the request's path happened, keyed by the
 * log index (writes) or the node's read number (reads), and writes them to
 * FILE when it shuts down. Stages in different processes are never
 * subtracted from each other (their clocks are not synchronised): the bench
 * takes deltas inside one process, and gets the network's share as a round
 * trip minus the time the far side held the request.
 *
 * Off by default, and then it costs one `undefined` check per place (the
 * host holds `probe: undefined`). On, a mark is three stores into
 * preallocated typed arrays: no allocation on the path being measured. The
 * buffer is a ring of fixed size, so a long run keeps the newest marks and
 * memory stays bounded (node/latency-recorder.ts). This file does no IO: the
 * host, shared with the simulator, imports it.
 */
/** The stages, in the order a write passes them. Codes are indexes into this list (the trace file stores names). */
export const STAGES = [
  /** The client's request reached the host (time: the datagram's arrival, before decoding). Key: log index. */
  'client_request',
  /** The core accepted the write as an entry. Key: log index. */
  'propose',
  /** The host began writing the entry (with its Ready) to the log. Key: log index. */
  'persist_start',
  /** The entry is durable. Key: log index. */
  'persist_end',
  /** An AppendEntries carrying the entry as its last left for a follower. Key: log index. */
  'peer_send',
  /** A follower got an AppendEntries whose last entry is this (time: arrival). Key: log index. */
  'peer_receive',
  /** A follower acknowledged up to this index. Key: matchIndex. */
  'ack_send',
  /** The leader got a follower's acknowledgement up to this index (time: arrival). Key: matchIndex. */
  'ack_receive',
  /** The host took the Ready that says this entry is committed. Key: log index. */
  'commit',
  /** The state machine applied the entry. Key: log index. */
  'apply',
  /** The reply to the write left. Key: log index. */
  'reply_send',
  /** A read reached the host (time: the datagram's arrival). Key: the node's read number. */
  'read_request',
  /** The leadership round of a read is confirmed (ReadIndex known). Key: read number. */
  'read_confirmed',
  /** The read's reply left. Key: read number. */
  'read_reply',
] as const;

export type Stage = (typeof STAGES)[number];

/** Stage name → code, for the marking sites (a property read, not a search). */
export const STAGE: { readonly [S in Stage]: number } = Object.fromEntries(STAGES.map((stage, code) => [stage, code])) as {
  readonly [S in Stage]: number;
};

/** What the host and the transport call; absent (undefined) when tracing is off. */
export interface LatencyProbe {
  /** When the datagram being handled arrived (set by the socket handler before decoding). */
  arrivedAtMs: number;
  now(): number;
  /** Records `stage` of `key` at `atMs` (default: now). */
  mark(stage: number, key: number, atMs?: number): void;
}

export interface ProbeMark {
  readonly stage: Stage;
  readonly key: number;
  readonly timeMs: number;
}

/** Parses a trace file written by {@link RecordingProbe.dump}; lines that do not parse are reported, not guessed at. */
export function parseProbeTrace(text: string): { marks: ProbeMark[]; badLines: number } {
  const marks: ProbeMark[] = [];
  let badLines = 0;
  const known = new Set<string>(STAGES);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [stage, key, time] = line.split(' ');
    const keyNumber = Number(key);
    const timeMs = Number(time);
    if (stage === undefined || !known.has(stage) || !Number.isFinite(keyNumber) || !Number.isFinite(timeMs)) {
      badLines++;
      continue;
    }
    marks.push({ stage: stage as Stage, key: keyNumber, timeMs });
  }
  return { marks, badLines };
}
