import { describe, expect, it } from 'vitest';
import { comparisonTable, parseClusterReport } from '../../bench/compare.js';

// Lines as two builds print them: 2ec063a (no system column, no CPU) and today's.
const OLD = `write  clients=  1     750 ops/s  p50 1.08 ms  p99 5.03 ms  (3750 ok, 0 not ok, 5.0 s)
write  clients= 64   10331 ops/s  p50 5.69 ms  p99 14.15 ms  (51698 ok, 0 not ok, 5.0 s)
reference etcd 3.4 (same machine): ~290 ops/s at 1 client, ~1,500 ops/s at 64 writing; failover median ~370 ms`;
const NEW = `rift  write  clients=  1     600 ops/s  p50 1.33 ms  p99 6.47 ms  (2682 ok, 0 not ok, 5.0 s)  cpu µs/op: leader 909, follower 500, client 264, total 3173
rift  write  clients= 64    8000 ops/s  p50 6.62 ms  p99 19.36 ms  (38981 ok, 0 not ok, 5.0 s)  cpu µs/op: leader 83, follower 29, client 44, total 242`;

describe('bench compare', () => {
  it('reads the load lines of old and new cluster reports, and nothing else', () => {
    expect(parseClusterReport(OLD)).toEqual([
      { workload: 'write', clients: 1, opsPerSecond: 750, p50Ms: 1.08, cpuUsPerOp: null },
      { workload: 'write', clients: 64, opsPerSecond: 10331, p50Ms: 5.69, cpuUsPerOp: null },
    ]);
    expect(parseClusterReport(NEW).map((f) => [f.opsPerSecond, f.cpuUsPerOp])).toEqual([
      [600, 3173],
      [8000, 242],
    ]);
  });

  it('tabulates medians per load and after / before', () => {
    const before = [...parseClusterReport(OLD), ...parseClusterReport(OLD.replace('10331', '9000'))];
    const after = [...parseClusterReport(NEW), ...parseClusterReport(NEW)];
    const table = comparisonTable(before, after);
    // Median of 10331 and 9000 is 9665.5; 8000 / 9665.5 = 0.83.
    expect(table).toContain('| write, clients=64 | 9666 | 8000 | 0.83 | 5.69 | 6.62 | 2 + 2 |');
    expect(table).toContain('| write, clients=1 | 750 | 600 | 0.80 | 1.08 | 1.33 | 2 + 2 |');
  });
});
