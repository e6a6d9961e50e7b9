/**
 * A tiny stand-in for dist/node/main.js, for testing the cluster manager and the
 * nemesis with real processes and real UDP before (or without) the real node.
 * It binds its UDP port, says 'ready' over IPC, heartbeats every peer through its
 * routes (so the relay sees real traffic), counts datagrams received per peer,
 * and answers 'status' and 'clock'. "Leader" = the smallest id among itself and
 * the peers heard in the last 250 ms; becoming leader takes term maxSeen + 1.
 * Flag --crash-on-start: write to stderr and exit 3 before 'ready'.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dirs.js';

const source = String.raw`
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const arg = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const id = arg('--id');
const config = JSON.parse(readFileSync(arg('--config'), 'utf8'));
if (argv.includes('--crash-on-start')) { process.stderr.write('fake node ' + id + ': boom (asked to crash)\n'); process.exit(3); }
const self = config.nodes.find((n) => n.id === id);
const peers = config.nodes.filter((n) => n.id !== id).map((n) => {
  const route = config.routes?.[id]?.[n.id];
  if (route) { const c = route.lastIndexOf(':'); return { id: n.id, host: route.slice(0, c), port: Number(route.slice(c + 1)) }; }
  return { id: n.id, host: n.host, port: n.port };
});
const lastHeard = new Map(); const received = {}; const startedAt = performance.now();
let term = 0, maxTerm = 0, role = 'follower', leaderId = null;
let offsetMs = 0, rate = 1, baseReal = performance.now(), baseFake = Date.now();
const now = () => baseFake + (performance.now() - baseReal) * rate + offsetMs;
const sock = createSocket('udp4');
sock.on('error', () => {});
sock.on('message', (buf) => {
  let m; try { m = JSON.parse(buf.toString()); } catch { return; }
  if (typeof m.from !== 'string') return;
  received[m.from] = (received[m.from] ?? 0) + 1;
  lastHeard.set(m.from, performance.now());
  if (m.term > maxTerm) maxTerm = m.term;
});
function tick() {
  const t = performance.now();
  const alive = [id, ...[...lastHeard].filter(([, at]) => t - at < 250).map(([p]) => p)].sort();
  // Like an election timeout: nobody campaigns in its first 200 ms (it first hears who is up).
  const shouldLead = alive[0] === id && t - startedAt > 200;
  if (shouldLead && role !== 'leader') { term = maxTerm + 1; maxTerm = term; role = 'leader'; }
  if (!shouldLead) { role = 'follower'; term = Math.max(term, maxTerm); }
  leaderId = alive[0];
  const msg = Buffer.from(JSON.stringify({ from: id, term, leader: role === 'leader' }));
  for (const p of peers) sock.send(msg, p.port, p.host, () => {});
}
sock.bind(self.port, self.host, () => {
  setInterval(tick, 30);
  process.on('message', (req) => {
    if (req?.type === 'status') {
      process.send({ type: 'status', status: { id, role, currentTerm: term, votedFor: null, leaderId, commitIndex: 0, lastApplied: 0, lastLogIndex: 0,
        clock: { nowMs: now(), offsetMs, rate }, dropped: {}, unsafe: [], received } });
    } else if (req?.type === 'clock') {
      const cur = now(); baseReal = performance.now(); baseFake = cur - offsetMs;
      if (typeof req.offsetMs === 'number') offsetMs = req.offsetMs;
      if (typeof req.bumpMs === 'number') offsetMs += req.bumpMs;
      if (typeof req.rate === 'number') rate = req.rate;
      process.send({ type: 'clock_ok', nowMs: now(), offsetMs, rate });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', id, host: self.host, port: sock.address().port });
});
`;

/** Writes the fake node into a fresh temp dir; returns its path (pass as ClusterOptions.nodeEntry). */
export function writeFakeNode(): string {
  const dir = tempDir('rift-fake-node-');
  const path = join(dir, 'fake-node.mjs');
  writeFileSync(path, source);
  return path;
}

/** The fake node's extra status field: datagrams received per peer. */
export function receivedOf(status: unknown): Record<string, number> {
  return (status as { received?: Record<string, number> } | null)?.received ?? {};
}
