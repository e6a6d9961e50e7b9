// Micro-benchmark (not a test): persist() calls per second on a real file with
// fsync, one entry per call and 64 entries per call. Run:
//   npx tsc --ignoreConfig --outDir /tmp/rift-storage-bench --rootDir . --module nodenext --target es2022 --types node \
//     --skipLibCheck test/node/storage/persist-bench.ts && node /tmp/rift-storage-bench/test/node/storage/persist-bench.js [dir]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../../../node/raft/types.js';
import { openFileStorage } from '../../../node/storage/index.js';

async function run(label: string, batch: number, calls: number, lazyFsync: boolean, base: string): Promise<void> {
  const dir = await mkdtemp(path.join(base, 'rift-persist-bench-'));
  try {
    const { storage } = await openFileStorage(dir, { lazyFsync });
    const data = JSON.stringify({ op: 'put', key: 'k1234', value: 'v'.repeat(64), clientId: 'c-0001', seq: 1 });
    let next = 1;
    const t0 = process.hrtime.bigint();
    for (let c = 0; c < calls; c++) {
      const es: Entry[] = [];
      for (let i = 0; i < batch; i++) (es.push({ index: next, term: 1, type: 'command', data }), next++);
      await storage.persist(c === 0 ? { currentTerm: 1, votedFor: 'n1' } : null, es);
    }
    await storage.close();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `${label}: ${calls} calls x ${batch} entries in ${s.toFixed(2)} s = ${(calls / s).toFixed(0)} persist/s, ${((calls * batch) / s).toFixed(0)} entries/s, ${((s / calls) * 1000).toFixed(3)} ms/call`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const base = process.argv[2] ?? os.tmpdir();
console.log(`dir base: ${base}, node ${process.version}`);
await run('fsync, 1 entry/call ', 1, 2000, false, base);
await run('fsync, 64 entries/call', 64, 500, false, base);
await run('lazy (unsafe), 1 entry/call', 1, 20000, true, base);
