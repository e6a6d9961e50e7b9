/**
 * `npm run bench -- soak [--minutes M] [--clients C] [--keys K] [--value-bytes B] [--sample-seconds S] [--out DIR]`
 * `npm run bench -- soak --compare-uncompacted [--windows N] [--window-seconds S] ...`
 *
 * Issue 18's soak figure, on real processes over loopback UDP with fsync:
 * a 5-node cluster (harness/cluster.ts, net 'direct', the default snapshot
 * policy) under full write load, C closed-loop RiftClients each keeping one
 * `put` outstanding over K keys of B-byte values, for M minutes. Every
 * `--sample-seconds` it reads each node's RSS (VmRSS in /proc/PID/status)
 * and disk use (the bytes of the files in its data directory: raft.log and
 * the snapshot files), and the load average (/proc/loadavg: the machine is
 * shared, the figures are only as good as it is quiet).
 *
 * "Flat after warm-up" (flatnessVerdict, per node):
 * - warm-up is the first 10% of the run (1 minute of 10): the JIT, the
 *   first snapshots and the log reaching its compacted length settle in it;
 * - RSS: split the rest of the run in two halves; the second half's mean
 *   and its peak are each at most `rssTolerance` (default 20%) above the
 *   first half's. Not single samples: a node's RSS is a sawtooth of V8's
 *   old generation, which under this load fills to ~100 MiB of mostly
 *   garbage before a mark-compact takes it back to ~10 MiB live (seen in
 *   Node's diagnostic reports, 2026-12-05), so RSS swings between ~110 and
 *   ~240 MiB with a period of a minute or two, and any one sample (the one
 *   at 1 minute too) lands anywhere on it. Half a run holds several periods:
 *   its mean and peak are steady when nothing leaks, and a leak (the
 *   in-memory log kept whole, an unbounded table) raises both;
 * - disk: every sample after warm-up is at most `diskBoundBytes` (below),
 *   which the snapshot thresholds set. A log that is never compacted grows
 *   by the write rate (~15 MB a minute here) and crosses it within minutes.
 *
 * The disk bound (diskBound), from the node's own numbers:
 * - the live log after a snapshot is at most every + trailing entries
 *   (node/raft/compaction.ts: a snapshot every `snapshotEveryEntries`, keeping
 *   `snapshotTrailingEntries` before it), each at most `entryBytes` on disk
 *   (node/storage/record.ts's encoding of one of this workload's commands,
 *   node/kv/command.ts, with its own frame: the worst case of no batching);
 * - raft.log holds the live log plus garbage: the file is rewritten after a
 *   compaction once garbage exceeds both 8 MiB and the live bytes
 *   (node/storage/file-storage.ts), and until the next compaction it grows by
 *   `snapshotEveryEntries` entries: at most max(8 MiB, live) + live + every;
 *   while it is rewritten, `raft.log.tmp` holds another copy of the live log;
 * - the snapshot files: `snapshot`, `snapshot.prev`, a `snapshot.tmp` being
 *   written, and one being received by InstallSnapshot: 4 times the size of
 *   this workload's full state (a KvStateMachine fed K keys from C clients,
 *   encoded as the node encodes it), plus 64 KiB of headroom for metadata.
 *
 * `--compare-uncompacted`: two 5-node clusters up side by side, one with the
 * default snapshot policy and one with snapshots off (`--snapshot-every-entries
 * 0`, the node's override for `snapshotEveryEntries: null`: the log grows
 * without bound); after a short unmeasured warm-up of each, N windows of S
 * seconds of the same workload on each, alternating which goes first, so the
 * machine's drift hits both alike. Every window's throughput and the ratio
 * compacted / uncompacted are printed; the figure is the median ratio
 * (target: at least 0.9).
 *
 * Leadership (leadershipVerdict): nothing attacks the cluster, so the
 * highest term any node reports must not change after the first sample; an
 * election means a node stalled past an election timeout by itself (the
 * log rewrite after a compaction did, at every rewrite, until 2026-12-05).
 *
 * Exit code: 0 when every node is flat and the leadership steady (or the median ratio is at least 0.9),
 * 1 when not (so the bench can fail), 254 for a bad option.
 */
import { DEFAULT_COMPACT_MIN_GARBAGE_BYTES } from '../node/storage/file-storage.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSnapshotting } from '../node/config-types.js';
import { Cluster } from '../harness/cluster.js';
import { RiftClient } from '../node/client.js';
import { encodeCommand } from '../node/kv/command.js';
import { KvStateMachine } from '../node/kv/state-machine.js';
import { encodeRecord, FRAME_HEADER_BYTES } from '../node/storage/record.js';

const USAGE =
  'usage: npm run bench -- soak [--minutes M] [--clients C] [--keys K] [--value-bytes B] [--sample-seconds S] ' +
  '[--rss-tolerance F] [--out DIR] | --compare-uncompacted [--windows N] [--window-seconds S] [--warmup-seconds S]\n';

const NODE_COUNT = 5;
/** snapshot, snapshot.prev, snapshot.tmp being written, one being received by InstallSnapshot. */
const SNAPSHOT_FILES_AT_MOST = 4;
const SNAPSHOT_HEADROOM_BYTES = 64 * 1024;
/** The share of the run that is warm-up. */
const WARMUP_FRACTION = 0.1;
/** The compacted cluster's write throughput must be at least this share of the uncompacted one's (issue 18). */
const THROUGHPUT_RATIO_TARGET = 0.9;

export interface SoakOptions {
  readonly minutes: number;
  readonly clients: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly sampleSeconds: number;
  /** The second half's mean and peak RSS may each be this fraction above the first half's (after warm-up). */
  readonly rssTolerance: number;
  /** Log lines (progress) go here; stdout carries the results. */
  readonly log?: (line: string) => void;
}

/** One sample of the whole cluster, at `tMs` since the load started. Null: the node was not running (or /proc not readable). */
export interface Sample {
  readonly tMs: number;
  readonly rssBytes: Readonly<Record<string, number | null>>;
  readonly diskBytes: Readonly<Record<string, number | null>>;
  readonly writes: number;
  readonly loadAvg1: number | null;
  /** Entries in the node's in-memory log (lastLogIndex - firstIndex + 1, from its status): bounded by the snapshot thresholds. */
  readonly logEntries: Readonly<Record<string, number | null>>;
  /** Snapshots the node has taken since it started. */
  readonly snapshotsTaken: Readonly<Record<string, number | null>>;
  /** The node's currentTerm (from its status). */
  readonly terms: Readonly<Record<string, number | null>>;
}

/**
 * Whether the cluster kept one leader: nothing attacks it, so every term
 * change after the first sample (the load starts with a leader elected) is
 * an election the node caused itself (a stalled event loop, as the log
 * rewrite's was, 2026-12-05). Judged on the highest term any node reports.
 */
export interface LeadershipVerdict {
  readonly steady: boolean;
  readonly firstTerm: number | null;
  readonly lastTerm: number | null;
  /** Samples at which the highest term had risen since the previous one. */
  readonly termChanges: readonly { readonly tMs: number; readonly term: number }[];
}

export function leadershipVerdict(samples: readonly Pick<Sample, 'tMs' | 'terms'>[]): LeadershipVerdict {
  const highest = (s: Pick<Sample, 'terms'>): number | null => {
    const terms = Object.values(s.terms).filter((t): t is number => t !== null);
    return terms.length === 0 ? null : Math.max(...terms);
  };
  const termChanges: { tMs: number; term: number }[] = [];
  let firstTerm: number | null = null;
  let previous: number | null = null;
  for (const s of samples) {
    const term = highest(s);
    if (term === null) continue;
    if (firstTerm === null) firstTerm = term;
    else if (previous !== null && term > previous) termChanges.push({ tMs: s.tMs, term });
    previous = term;
  }
  return { steady: firstTerm !== null && termChanges.length === 0, firstTerm, lastTerm: previous, termChanges };
}

/** One node's series, as the verdict reads it. */
export interface NodeSeries {
  readonly tMs: readonly number[];
  readonly rssBytes: readonly (number | null)[];
  readonly diskBytes: readonly (number | null)[];
}

export interface FlatnessCriteria {
  readonly durationMs: number;
  readonly rssTolerance: number;
  readonly diskBoundBytes: number;
}

export interface FlatnessVerdict {
  readonly flat: boolean;
  /** Mean and peak RSS over the first and the second half of the run after warm-up, and the growth from one to the other. */
  readonly rssFirstHalf: { readonly meanBytes: number; readonly peakBytes: number } | null;
  readonly rssSecondHalf: { readonly meanBytes: number; readonly peakBytes: number } | null;
  readonly rssMeanGrowth: number | null;
  readonly rssPeakGrowth: number | null;
  readonly rssFlat: boolean;
  readonly diskMaxAfterWarmupBytes: number | null;
  readonly diskFlat: boolean;
  readonly rssMaxAfterWarmupBytes: number | null;
  /** Why it is not flat (empty when flat). */
  readonly reasons: readonly string[];
}

export interface DiskBound {
  readonly bytes: number;
  readonly entryBytes: number;
  readonly liveLogBytes: number;
  readonly logFileBytes: number;
  readonly stateBytes: number;
  readonly snapshotFilesBytes: number;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function present(values: readonly (number | null)[], tMs: readonly number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && tMs[i]! >= from && tMs[i]! <= to) out.push(v);
  }
  return out;
}

/**
 * Whether one node's RSS and disk use stay flat after warm-up (the file
 * comment defines it). Pure: the bench and its test feed it series.
 */
export function flatnessVerdict(series: NodeSeries, criteria: FlatnessCriteria): FlatnessVerdict {
  const warmupEndMs = criteria.durationMs * WARMUP_FRACTION;
  const midMs = (warmupEndMs + criteria.durationMs) / 2;
  const reasons: string[] = [];
  const summary = (values: readonly number[]): { meanBytes: number; peakBytes: number } | null =>
    values.length === 0 ? null : { meanBytes: values.reduce((a, b) => a + b, 0) / values.length, peakBytes: Math.max(...values) };
  const first = summary(present(series.rssBytes, series.tMs, warmupEndMs, midMs - 1e-9));
  const second = summary(present(series.rssBytes, series.tMs, midMs, Number.POSITIVE_INFINITY));
  const rssAll = present(series.rssBytes, series.tMs, warmupEndMs, Number.POSITIVE_INFINITY);
  const diskAll = present(series.diskBytes, series.tMs, warmupEndMs, Number.POSITIVE_INFINITY);
  let rssMeanGrowth: number | null = null;
  let rssPeakGrowth: number | null = null;
  let rssFlat = false;
  if (first === null || second === null) {
    reasons.push('RSS: no samples in one of the two halves after warm-up');
  } else {
    rssMeanGrowth = second.meanBytes / first.meanBytes - 1;
    rssPeakGrowth = second.peakBytes / first.peakBytes - 1;
    const allowed = `${(criteria.rssTolerance * 100).toFixed(0)}% allowed`;
    if (rssMeanGrowth > criteria.rssTolerance)
      reasons.push(`mean RSS grew ${pct(rssMeanGrowth)} (${mib(first.meanBytes)} -> ${mib(second.meanBytes)}), over the ${allowed}`);
    if (rssPeakGrowth > criteria.rssTolerance)
      reasons.push(`peak RSS grew ${pct(rssPeakGrowth)} (${mib(first.peakBytes)} -> ${mib(second.peakBytes)}), over the ${allowed}`);
    rssFlat = reasons.length === 0;
  }
  const diskMax = diskAll.length === 0 ? null : Math.max(...diskAll);
  let diskFlat = false;
  if (diskMax === null) {
    reasons.push('disk: no samples after warm-up');
  } else {
    diskFlat = diskMax <= criteria.diskBoundBytes;
    if (!diskFlat) reasons.push(`disk reached ${mib(diskMax)}, over the ${mib(criteria.diskBoundBytes)} bound`);
  }
  return {
    flat: rssFlat && diskFlat,
    rssFirstHalf: first,
    rssSecondHalf: second,
    rssMeanGrowth,
    rssPeakGrowth,
    rssFlat,
    rssMaxAfterWarmupBytes: rssAll.length === 0 ? null : Math.max(...rssAll),
    diskMaxAfterWarmupBytes: diskMax,
    diskFlat,
    reasons,
  };
}

/** The disk-use bound the snapshot thresholds set for this workload (the file comment derives it). */
export function diskBound(opts: { readonly clients: number; readonly keys: number; readonly valueBytes: number }): DiskBound {
  const every = defaultSnapshotting.snapshotEveryEntries;
  if (every === null) throw new Error('the default snapshot policy never snapshots: no disk bound to soak against');
  const trailing = defaultSnapshotting.snapshotTrailingEntries;
  const big = Number.MAX_SAFE_INTEGER;
  // The largest record one of the soak's puts makes: the widest client id, numbers at their widest.
  const data = encodeCommand({
    clientId: soakClientId('uncompacted', opts.clients - 1),
    instance: big,
    seq: big,
    op: { type: 'put', key: `k${opts.keys - 1}`, value: 'v'.repeat(opts.valueBytes) },
  });
  const entryBytes = FRAME_HEADER_BYTES + encodeRecord({ type: 'entry', entry: { term: big, index: big, type: 'command', data } }).length;
  const entryCountBytes = every * entryBytes;
  // The bytes threshold can only make snapshots come sooner, never later.
  const sinceSnapshotBytes = Math.min(entryCountBytes, defaultSnapshotting.snapshotEveryBytes + entryBytes);
  const liveLogBytes = sinceSnapshotBytes + trailing * entryBytes;
  // raft.log before a rewrite, plus the rewrite's temp file (the live records) beside it.
  const logFileBytes = Math.max(DEFAULT_COMPACT_MIN_GARBAGE_BYTES, liveLogBytes) + liveLogBytes + sinceSnapshotBytes + liveLogBytes;
  // The full state: every key written, a session per client (their ids as the soak names them).
  const sm = new KvStateMachine({ log: () => undefined });
  for (let i = 0; i < Math.max(opts.keys, opts.clients); i++) {
    const c = i % opts.clients;
    const cmd = encodeCommand({
      clientId: soakClientId('uncompacted', c),
      instance: big,
      seq: big - opts.keys + i,
      op: { type: 'put', key: `k${i % opts.keys}`, value: 'v'.repeat(opts.valueBytes) },
    });
    sm.apply({ term: 1, index: i + 1, type: 'command', data: cmd });
  }
  const stateBytes = Buffer.byteLength(sm.encodeSnapshot(), 'utf8');
  const snapshotFilesBytes = SNAPSHOT_FILES_AT_MOST * (stateBytes + SNAPSHOT_HEADROOM_BYTES);
  return { bytes: logFileBytes + snapshotFilesBytes, entryBytes, liveLogBytes, logFileBytes, stateBytes, snapshotFilesBytes };
}

/** On SIGINT/SIGTERM, after the cluster's own stop: remove the run directories too, then exit as the signal would (128 + its number). */
function removingOnSignal(dirs: readonly string[]): (signal: NodeJS.Signals) => void {
  return (signal) => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(128 + constants.signals[signal]);
  };
}

function soakClientId(tag: string, c: number): string {
  return `soak-${tag}-${c}`;
}

function pct(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(0)}%`;
}

function mib(bytes: number | null): string {
  return bytes === null ? '-' : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** VmRSS of a process in bytes, or null (gone, or not Linux). */
export function rssBytesOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** The bytes of the files in a directory tree (the node's data directory: raft.log, snapshot files). */
export function dirBytes(dir: string): number | null {
  try {
    let total = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      try {
        if (entry.isDirectory()) total += dirBytes(path) ?? 0;
        else if (entry.isFile()) total += statSync(path).size;
      } catch {
        // A temp file renamed away between the listing and the stat: it no longer counts.
      }
    }
    return total;
  } catch {
    return null;
  }
}

export function loadAvg1(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

interface Load {
  writes: number;
  errors: number;
  stop(): Promise<void>;
}

/** C closed-loop writers on `cluster` until stop(): each keeps one put outstanding. */
async function startLoad(cluster: Cluster, opts: Pick<SoakOptions, 'clients' | 'keys' | 'valueBytes'>, tag: string): Promise<Load> {
  const leader = await cluster.waitForLeader(60_000);
  const value = 'v'.repeat(opts.valueBytes);
  let running = true;
  const load: Load = { writes: 0, errors: 0, stop: async () => undefined };
  const writers = Array.from({ length: opts.clients }, async (_, c) => {
    const client = new RiftClient({
      config: cluster.config,
      clientId: soakClientId(tag, c),
      timeoutMs: 30_000,
      seed: c + 1,
      ...(leader !== null ? { initialNode: leader } : {}),
    });
    let i = c;
    try {
      while (running) {
        const r = await client.put(`k${i % opts.keys}`, value);
        if (r.type === 'ok') load.writes++;
        else load.errors++;
        i += opts.clients;
      }
    } finally {
      client.close();
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all(writers);
  };
  return load;
}

async function sampleCluster(cluster: Cluster, tMs: number, writes: number): Promise<Sample> {
  const rssBytes: Record<string, number | null> = {};
  const diskBytes: Record<string, number | null> = {};
  for (const id of cluster.nodeIds) {
    const pid = cluster.pid(id);
    rssBytes[id] = pid === null ? null : rssBytesOf(pid);
    diskBytes[id] = dirBytes(join(cluster.config.dataDir, id));
  }
  const statuses = await Promise.all(cluster.nodeIds.map((id) => cluster.status(id, 2000)));
  const logEntries: Record<string, number | null> = {};
  const snapshotsTaken: Record<string, number | null> = {};
  const terms: Record<string, number | null> = {};
  cluster.nodeIds.forEach((id, i) => {
    const s = statuses[i] ?? null;
    terms[id] = s?.currentTerm ?? null;
    logEntries[id] = s === null ? null : s.lastLogIndex - (s.snapshots?.firstIndex ?? 1) + 1;
    snapshotsTaken[id] = s?.snapshots?.taken ?? null;
  });
  return { tMs, rssBytes, diskBytes, writes, loadAvg1: loadAvg1(), logEntries, snapshotsTaken, terms };
}

export interface SoakResult {
  readonly options: Omit<SoakOptions, 'log'>;
  readonly durationMs: number;
  readonly diskBound: DiskBound;
  /** The marks (1, 5, 10 minutes of a 10-minute run: 10%, 50%, 100%): the sample nearest each. */
  readonly marks: readonly { readonly label: string; readonly sample: Sample }[];
  /** Writes per second in each minute (or each tenth of a shorter run). */
  readonly throughput: readonly {
    readonly fromS: number;
    readonly toS: number;
    readonly writesPerSecond: number;
    readonly loadAvg1: number | null;
  }[];
  /** Puts acknowledged ok by the last sample (the end of the measured period). */
  readonly writes: number;
  /** Puts that did not answer ok (timeouts, failures), until the load stopped. */
  readonly errors: number;
  readonly verdicts: Readonly<Record<string, FlatnessVerdict>>;
  readonly flat: boolean;
  readonly leadership: LeadershipVerdict;
  readonly samples: readonly Sample[];
}

function nearest(samples: readonly Sample[], tMs: number): Sample {
  let best = samples[0]!;
  for (const s of samples) if (Math.abs(s.tMs - tMs) < Math.abs(best.tMs - tMs)) best = s;
  return best;
}

function seriesOf(samples: readonly Sample[], id: string): NodeSeries {
  return {
    tMs: samples.map((s) => s.tMs),
    rssBytes: samples.map((s) => s.rssBytes[id] ?? null),
    diskBytes: samples.map((s) => s.diskBytes[id] ?? null),
  };
}

function markLabel(tMs: number): string {
  const minutes = tMs / 60_000;
  return Number.isInteger(minutes) ? `${minutes} min` : `${(tMs / 1000).toFixed(0)} s`;
}

/** The soak: a 5-node cluster under full write load for `minutes`, sampled; see the file comment. */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const durationMs = opts.minutes * 60_000;
  const sampleMs = opts.sampleSeconds * 1000;
  const bound = diskBound(opts);
  const runDir = mkdtempSync(join(tmpdir(), 'rift-soak-'));
  const cluster = await Cluster.start({
    nodeCount: NODE_COUNT,
    runDir,
    nodeFlags: [],
    net: 'direct',
    seed: 1,
    readyTimeoutMs: 120_000,
    onSignal: removingOnSignal([runDir]),
  });
  const samples: Sample[] = [];
  try {
    const load = await startLoad(cluster, opts, 'compacted');
    const started = performance.now();
    samples.push(await sampleCluster(cluster, 0, 0));
    // Sample on a schedule of absolute times, so a slow sample does not shift the rest.
    for (let k = 1; ; k++) {
      const dueMs = Math.min(k * sampleMs, durationMs);
      const waitMs = started + dueMs - performance.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const s = await sampleCluster(cluster, performance.now() - started, load.writes);
      samples.push(s);
      const rss = cluster.nodeIds.map((id) => mib(s.rssBytes[id] ?? null)).join(' ');
      const disk = cluster.nodeIds.map((id) => mib(s.diskBytes[id] ?? null)).join(' ');
      const entries = cluster.nodeIds.map((id) => s.logEntries[id] ?? '-').join(' ');
      log(
        `  ${(s.tMs / 1000).toFixed(0)} s: ${s.writes} writes, load ${s.loadAvg1 ?? '-'}; RSS ${rss}; disk ${disk}; log entries ${entries}`,
      );
      if (dueMs >= durationMs) break;
    }
    await load.stop();
    const marks = [0.1, 0.5, 1].map((f) => ({ label: markLabel(f * durationMs), sample: nearest(samples, f * durationMs) }));
    const bucketMs = Math.min(60_000, durationMs / 10);
    const throughput: SoakResult['throughput'][number][] = [];
    for (let from = 0; from < durationMs - 1; from += bucketMs) {
      const a = nearest(samples, from);
      const b = nearest(samples, from + bucketMs);
      if (b.tMs <= a.tMs) continue;
      throughput.push({
        fromS: Math.round(a.tMs / 1000),
        toS: Math.round(b.tMs / 1000),
        writesPerSecond: Math.round((b.writes - a.writes) / ((b.tMs - a.tMs) / 1000)),
        loadAvg1: b.loadAvg1,
      });
    }
    const verdicts: Record<string, FlatnessVerdict> = {};
    for (const id of cluster.nodeIds) {
      verdicts[id] = flatnessVerdict(seriesOf(samples, id), { durationMs, rssTolerance: opts.rssTolerance, diskBoundBytes: bound.bytes });
    }
    const { log: _log, ...options } = opts;
    return {
      options,
      durationMs,
      diskBound: bound,
      marks,
      throughput,
      // The measured period ends at the last sample (the puts still in flight then finish after it, uncounted).
      writes: samples[samples.length - 1]!.writes,
      errors: load.errors,
      verdicts,
      flat: Object.values(verdicts).every((v) => v.flat),
      leadership: leadershipVerdict(samples),
      samples,
    };
  } finally {
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** The soak's report, as printed on stdout. */
export function soakReport(r: SoakResult): string {
  const ids = Object.keys(r.verdicts);
  const lines: string[] = [];
  lines.push(
    `soak: ${NODE_COUNT} nodes, fsync on, default snapshots (every ${defaultSnapshotting.snapshotEveryEntries} entries or ` +
      `${defaultSnapshotting.snapshotEveryBytes / (1024 * 1024)} MiB, ${defaultSnapshotting.snapshotTrailingEntries} trailing); ` +
      `${r.options.clients} clients, ${r.options.keys} keys, ${r.options.valueBytes}-byte values, ${r.options.minutes} min`,
  );
  lines.push(
    `| node | ${r.marks.map((m) => `RSS @${m.label}`).join(' | ')} | RSS max after warm-up | ${r.marks.map((m) => `disk @${m.label}`).join(' | ')} | ` +
      `disk max after warm-up | log entries in memory, max | snapshots taken |`,
  );
  lines.push(`|---|${r.marks.map(() => '---:').join('|')}|---:|${r.marks.map(() => '---:').join('|')}|---:|---:|---:|`);
  const last = r.samples[r.samples.length - 1];
  for (const id of ids) {
    const v = r.verdicts[id]!;
    const entries = r.samples.map((s) => s.logEntries[id] ?? null).filter((e): e is number => e !== null);
    lines.push(
      `| ${id} | ${r.marks.map((m) => mib(m.sample.rssBytes[id] ?? null)).join(' | ')} | ${mib(v.rssMaxAfterWarmupBytes)} | ` +
        `${r.marks.map((m) => mib(m.sample.diskBytes[id] ?? null)).join(' | ')} | ${mib(v.diskMaxAfterWarmupBytes)} | ` +
        `${entries.length === 0 ? '-' : Math.max(...entries)} | ${last?.snapshotsTaken[id] ?? '-'} |`,
    );
  }
  lines.push(`load average (1 min) at the marks: ${r.marks.map((m) => `${m.label} ${m.sample.loadAvg1 ?? '-'}`).join(', ')}`);
  lines.push(
    `throughput (writes/s): ${r.throughput.map((t) => `${t.fromS}-${t.toS} s ${t.writesPerSecond} (load ${t.loadAvg1 ?? '-'})`).join(', ')}; ` +
      `${r.writes} writes, ${r.errors} not ok`,
  );
  const b = r.diskBound;
  lines.push(
    `flat after warm-up (the first ${WARMUP_FRACTION * 100}%) means: RSS's mean and peak over the second half of the rest at most ` +
      `${(r.options.rssTolerance * 100).toFixed(0)}% above the first half's (V8's old generation makes RSS a sawtooth, single samples say little), ` +
      `and disk use after warm-up at most ${mib(b.bytes)} (raft.log and its rewrite's temp file <= ${mib(b.logFileBytes)}: live log <= ${mib(b.liveLogBytes)} at <= ${b.entryBytes} B an entry, ` +
      `plus garbage below the 8 MiB rewrite threshold and one snapshot interval; ${SNAPSHOT_FILES_AT_MOST} snapshot files of a ${mib(b.stateBytes)} state)`,
  );
  for (const id of ids) {
    const v = r.verdicts[id]!;
    const rss =
      v.rssFirstHalf === null || v.rssSecondHalf === null || v.rssMeanGrowth === null || v.rssPeakGrowth === null
        ? 'RSS -'
        : `RSS mean ${mib(v.rssFirstHalf.meanBytes)} -> ${mib(v.rssSecondHalf.meanBytes)} (${pct(v.rssMeanGrowth)}), ` +
          `peak ${mib(v.rssFirstHalf.peakBytes)} -> ${mib(v.rssSecondHalf.peakBytes)} (${pct(v.rssPeakGrowth)})`;
    lines.push(
      `${id}: ${v.flat ? 'FLAT' : 'NOT FLAT'}: ${rss}, disk max ${mib(v.diskMaxAfterWarmupBytes)}${v.flat ? '' : `: ${v.reasons.join('; ')}`}`,
    );
  }
  const l = r.leadership;
  lines.push(
    l.steady
      ? `leadership: steady (term ${l.firstTerm} throughout: no election in a run nothing attacks)`
      : l.firstTerm === null
        ? 'leadership: NOT STEADY (no node reported its term)'
        : `leadership: NOT STEADY: term ${l.firstTerm} -> ${l.lastTerm}, elections seen at ${l.termChanges.map((c) => `${(c.tMs / 1000).toFixed(0)} s`).join(', ')} (nothing attacks this cluster: a node stalled)`,
  );
  lines.push(
    r.flat && l.steady
      ? 'verdict: every node flat after warm-up, one leader throughout'
      : `verdict: ${[r.flat ? null : 'NOT FLAT', l.steady ? null : 'NOT STEADY'].filter((x) => x !== null).join(', ')} (see the lines above)`,
  );
  return lines.join('\n') + '\n';
}

export interface CompareWindow {
  readonly window: number;
  readonly compactedWritesPerSecond: number;
  readonly uncompactedWritesPerSecond: number;
  readonly ratio: number;
  /** Which ran first in this window. */
  readonly first: 'compacted' | 'uncompacted';
  readonly loadAvg1: readonly (number | null)[];
}

export interface CompareResult {
  readonly options: {
    readonly windows: number;
    readonly windowSeconds: number;
    readonly warmupSeconds: number;
    readonly clients: number;
    readonly keys: number;
    readonly valueBytes: number;
  };
  readonly windows: readonly CompareWindow[];
  readonly medianRatio: number;
  readonly totalRatio: number;
  readonly diskBytesAtEnd: { readonly compacted: number | null; readonly uncompacted: number | null };
  readonly withinTarget: boolean;
}

async function measureWindow(
  cluster: Cluster,
  opts: Pick<SoakOptions, 'clients' | 'keys' | 'valueBytes'>,
  tag: string,
  seconds: number,
): Promise<number> {
  const load = await startLoad(cluster, opts, tag);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const writes = load.writes;
  const elapsedS = (performance.now() - started) / 1000;
  await load.stop();
  return writes / elapsedS;
}

/** Compacted vs uncompacted write throughput in interleaved windows (the file comment). */
export async function runCompare(opts: CompareResult['options'] & { readonly log?: (line: string) => void }): Promise<CompareResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dirs = { compacted: mkdtempSync(join(tmpdir(), 'rift-soak-c-')), uncompacted: mkdtempSync(join(tmpdir(), 'rift-soak-u-')) };
  const clusters: Partial<Record<'compacted' | 'uncompacted', Cluster>> = {};
  try {
    clusters.compacted = await Cluster.start({
      nodeCount: NODE_COUNT,
      runDir: dirs.compacted,
      nodeFlags: [],
      net: 'direct',
      seed: 1,
      readyTimeoutMs: 120_000,
      onSignal: removingOnSignal([dirs.compacted, dirs.uncompacted]),
    });
    clusters.uncompacted = await Cluster.start({
      nodeCount: NODE_COUNT,
      runDir: dirs.uncompacted,
      // 0 = never: the node's override for snapshotEveryEntries null (node/main.ts).
      nodeFlags: ['--snapshot-every-entries', '0'],
      net: 'direct',
      seed: 2,
      readyTimeoutMs: 120_000,
      onSignal: removingOnSignal([dirs.compacted, dirs.uncompacted]),
    });
    const both = { compacted: clusters.compacted, uncompacted: clusters.uncompacted };
    if (opts.warmupSeconds > 0) {
      for (const kind of ['compacted', 'uncompacted'] as const) {
        const w = await measureWindow(both[kind], opts, `${kind}-warmup`, opts.warmupSeconds);
        log(`  warm-up ${kind}: ${w.toFixed(0)} writes/s (not counted)`);
      }
    }
    const windows: CompareWindow[] = [];
    for (let w = 0; w < opts.windows; w++) {
      const order = w % 2 === 0 ? (['compacted', 'uncompacted'] as const) : (['uncompacted', 'compacted'] as const);
      const rate: Record<string, number> = {};
      const loads: (number | null)[] = [];
      for (const kind of order) {
        // The client ids name the kind (the disk bound sizes the longest); one session per client and window.
        rate[kind] = await measureWindow(both[kind], opts, `${kind}-${w}`, opts.windowSeconds);
        loads.push(loadAvg1());
      }
      const window: CompareWindow = {
        window: w + 1,
        compactedWritesPerSecond: Math.round(rate['compacted']!),
        uncompactedWritesPerSecond: Math.round(rate['uncompacted']!),
        ratio: rate['compacted']! / rate['uncompacted']!,
        first: order[0],
        loadAvg1: loads,
      };
      windows.push(window);
      log(
        `  window ${w + 1}: compacted ${window.compactedWritesPerSecond}/s, uncompacted ${window.uncompactedWritesPerSecond}/s, ratio ${window.ratio.toFixed(3)}`,
      );
    }
    const medianRatio = median(windows.map((w) => w.ratio))!;
    const sum = (f: (w: CompareWindow) => number): number => windows.reduce((a, w) => a + f(w), 0);
    return {
      options: {
        windows: opts.windows,
        windowSeconds: opts.windowSeconds,
        warmupSeconds: opts.warmupSeconds,
        clients: opts.clients,
        keys: opts.keys,
        valueBytes: opts.valueBytes,
      },
      windows,
      medianRatio,
      totalRatio: sum((w) => w.compactedWritesPerSecond) / sum((w) => w.uncompactedWritesPerSecond),
      diskBytesAtEnd: {
        compacted: dirBytes(join(both.compacted.config.dataDir, both.compacted.nodeIds[0]!)),
        uncompacted: dirBytes(join(both.uncompacted.config.dataDir, both.uncompacted.nodeIds[0]!)),
      },
      withinTarget: medianRatio >= THROUGHPUT_RATIO_TARGET,
    };
  } finally {
    await clusters.compacted?.stop();
    await clusters.uncompacted?.stop();
    rmSync(dirs.compacted, { recursive: true, force: true });
    rmSync(dirs.uncompacted, { recursive: true, force: true });
  }
}

export function compareReport(r: CompareResult): string {
  const lines: string[] = [];
  lines.push(
    `compaction's cost: two ${NODE_COUNT}-node clusters (default snapshots vs none), ${r.options.clients} clients, ${r.options.keys} keys, ` +
      `${r.options.valueBytes}-byte values; ${r.options.windows} windows of ${r.options.windowSeconds} s each, alternating, after ${r.options.warmupSeconds} s of warm-up each`,
  );
  lines.push('| window | first | compacted writes/s | uncompacted writes/s | compacted / uncompacted | load avg (1 min) after each |');
  lines.push('|---:|---|---:|---:|---:|---|');
  for (const w of r.windows) {
    lines.push(
      `| ${w.window} | ${w.first} | ${w.compactedWritesPerSecond} | ${w.uncompactedWritesPerSecond} | ${w.ratio.toFixed(3)} | ${w.loadAvg1.map((l) => l ?? '-').join(', ')} |`,
    );
  }
  lines.push(`median ratio ${r.medianRatio.toFixed(3)}, ratio of the totals ${r.totalRatio.toFixed(3)}`);
  lines.push(`disk use of n1 at the end: compacted ${mib(r.diskBytesAtEnd.compacted)}, uncompacted ${mib(r.diskBytesAtEnd.uncompacted)}`);
  lines.push(
    r.withinTarget
      ? `verdict: compacted throughput within ${((1 - THROUGHPUT_RATIO_TARGET) * 100).toFixed(0)}% of the uncompacted (median ratio >= ${THROUGHPUT_RATIO_TARGET})`
      : `verdict: compacted throughput NOT within ${((1 - THROUGHPUT_RATIO_TARGET) * 100).toFixed(0)}% of the uncompacted (median ratio < ${THROUGHPUT_RATIO_TARGET})`,
  );
  return lines.join('\n') + '\n';
}

function positive(name: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw Object.assign(new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(text)})`), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    });
  }
  return n;
}

export async function runSoakBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '10' },
      clients: { type: 'string', default: '32' },
      keys: { type: 'string', default: '1000' },
      'value-bytes': { type: 'string', default: '100' },
      'sample-seconds': { type: 'string', default: '5' },
      'rss-tolerance': { type: 'string', default: '0.2' },
      'compare-uncompacted': { type: 'boolean', default: false },
      windows: { type: 'string', default: '6' },
      'window-seconds': { type: 'string', default: '30' },
      'warmup-seconds': { type: 'string', default: '10' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const workload = {
    clients: positive('clients', values.clients, true),
    keys: positive('keys', values.keys, true),
    valueBytes: positive('value-bytes', values['value-bytes'], true),
  };
  if (values['compare-uncompacted']) {
    const warmupSeconds = Number(values['warmup-seconds']);
    if (!(warmupSeconds >= 0)) positive('warmup-seconds', values['warmup-seconds'], false);
    const result = await runCompare({
      ...workload,
      windows: positive('windows', values.windows, true),
      windowSeconds: positive('window-seconds', values['window-seconds'], false),
      warmupSeconds,
    });
    process.stdout.write(compareReport(result));
    if (values.out !== undefined) {
      mkdirSync(values.out, { recursive: true });
      writeFileSync(join(values.out, 'soak-compare.json'), JSON.stringify(result, null, 2) + '\n');
    }
    if (!result.withinTarget) process.exitCode = 1;
    return;
  }
  const result = await runSoak({
    ...workload,
    minutes: positive('minutes', values.minutes, false),
    sampleSeconds: positive('sample-seconds', values['sample-seconds'], false),
    rssTolerance: positive('rss-tolerance', values['rss-tolerance'], false),
  });
  process.stdout.write(soakReport(result));
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeFileSync(join(values.out, 'soak.json'), JSON.stringify(result, null, 2) + '\n');
  }
  if (!result.flat || !result.leadership.steady) process.exitCode = 1;
}
