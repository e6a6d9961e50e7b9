/**
 * The node-errors analysis (rift): every line a node logged with
 * UNSENDABLE_MARK (node/log-marks.ts), a message it built and could not
 * send. That is a bug of the node whatever the history shows: a follower or
 * a client waits for that message forever. Found so: a cas of two values
 * within the value limit whose stored form no AppendEntries could carry; the
 * leader logged `send to n4 failed` at every heartbeat, every later write
 * waited, and a run was INVALID only by the progress analysis, or UNKNOWN
 * when the machine was busy meanwhile (2026-12-07, `--values large`).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNSENDABLE_MARK } from '../../node/log-marks.js';
import { boundFindings, type Analysis } from './analysis.js';

/** Bytes of one node's log read: the lines that matter repeat, so the first ones say it. */
const MAX_LOG_BYTES = 64 * 1024 * 1024;

/** The first `maxBytes` of `file`. */
function readHead(file: string, maxBytes: number): Buffer {
  const buf = Buffer.alloc(Math.min(statSync(file).size, maxBytes));
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** The analysis of the nodes' logs in `logsDir` (`<id>.log`, spares included); null when there is none. */
export function nodeErrorsAnalysis(logsDir: string): Analysis | null {
  const marked: string[] = [];
  const logs = existsSync(logsDir)
    ? readdirSync(logsDir)
        .filter((f) => f.endsWith('.log'))
        .sort()
    : [];
  if (logs.length === 0) return null;
  for (const name of logs) {
    const id = name.slice(0, -'.log'.length);
    const file = join(logsDir, name);
    const text = readHead(file, MAX_LOG_BYTES).toString('utf8');
    for (const line of text.split('\n')) {
      const at = line.indexOf(`${UNSENDABLE_MARK}: `);
      if (at >= 0) marked.push(`${id}: ${line.slice(at, at + 300)}`);
    }
  }
  if (marked.length === 0) {
    return {
      name: 'node-errors',
      valid: true,
      conclusion: 'no node built a message it could not send',
      brief: 'nodes: no unsendable message',
      findings: [],
    };
  }
  // The same failure repeats at every heartbeat: each kind once (numbers aside), with its count.
  const kinds = new Map<string, { first: string; count: number }>();
  for (const m of marked) {
    const key = m.replace(/\d+/g, 'N');
    const kind = kinds.get(key);
    if (kind === undefined) kinds.set(key, { first: m, count: 1 });
    else kind.count++;
  }
  return {
    name: 'node-errors',
    valid: false,
    conclusion: 'a node built a message it could not send',
    brief: `nodes: ${marked.length} unsendable message${marked.length === 1 ? '' : 's'}`,
    findings: boundFindings(
      [...kinds.values()].map(({ first, count }) => `node-errors: ${first}${count > 1 ? ` (${count} lines like it)` : ''}`),
      (left) => `node-errors: ... ${left} more kinds (the nodes' logs)`,
    ),
  };
}
