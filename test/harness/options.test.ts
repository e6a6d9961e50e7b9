import { faketimeUnavailableReason } from '../../harness/db/faketime-clock.js';
import { etcdSystem } from '../../harness/db/etcd/system.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cyclesThatFit } from '../../harness/nemesis/schedule.js';
import { HELP, UsageError, defaults, parseConcurrency, parseOptions, type JepsenOptions } from '../../harness/options.js';
import { repoRoot } from '../support/build.js';

function opts(argv: string[], env: { isRoot?: boolean } = {}): JepsenOptions {
  const r = parseOptions(argv, { randomSeed: () => 1234, ...env });
  if (r.kind !== 'run') throw new Error('expected a run');
  return r.options;
}

function usage(argv: string[], env: { isRoot?: boolean } = {}): string {
  try {
    parseOptions(argv, { randomSeed: () => 1234, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseOptions: defaults', () => {
  it('gives every option a default', () => {
    const o = opts([]);
    expect(o).toMatchObject({
      nodes: 5,
      timeLimitS: 30,
      concurrency: 10,
      rate: 100,
      keys: 5,
      opsPerKey: 100,
      nemesis: [],
      nemesisIntervalS: 4,
      seed: 1234,
      seedGiven: false,
      testCount: 1,
      net: 'relay',
      readMode: 'readindex',
      nodeFlags: [],
      store: 'histories',
      leaveRunning: false,
      testName: 'rift-none',
      quiet: false,
      json: false,
      opTimeoutMs: 1500,
      checkTimeLimitS: 60,
    });
    expect(o.partitionShapes).toEqual(['one', 'leader', 'leader-minority', 'halves', 'majorities-ring', 'bridge']);
  });

  it('draws a random seed when none is given', () => {
    const r = parseOptions([]);
    if (r.kind !== 'run') throw new Error('expected a run');
    expect(Number.isInteger(r.options.seed)).toBe(true);
    expect(r.options.seedGiven).toBe(false);
  });

  it('--help', () => {
    expect(parseOptions(['--help'])).toEqual({ kind: 'help' });
    expect(parseOptions(['-h'])).toEqual({ kind: 'help' });
  });

  it('the help documents every option', () => {
    for (const flag of [
      '--nodes',
      '--time-limit',
      '--concurrency',
      '--rate',
      '--keys',
      '--ops-per-key',
      '--nemesis',
      '--nemesis-interval',
      '--partition',
      '--seed',
      '--test-count',
      '--net',
      '--read-mode',
      '--node-flag',
      '--store',
      '--leave-running',
      '--test-name',
      '--quiet',
      '--json',
      '--help',
      '--op-timeout',
      '--values',
      '--check-time-limit',
    ]) {
      expect(HELP).toContain(flag);
    }
    expect(HELP).toContain(`(default ${defaults.rate})`);
  });
});

describe('parseOptions: each flag', () => {
  it('numbers', () => {
    const o = opts([
      '--nodes',
      '3',
      '--time-limit',
      '2.5',
      '--rate',
      '50',
      '--keys',
      '2',
      '--ops-per-key',
      '7',
      '--seed',
      '99',
      '--test-count',
      '3',
      '--op-timeout',
      '800',
      '--check-time-limit',
      '5',
    ]);
    expect(o).toMatchObject({
      nodes: 3,
      timeLimitS: 2.5,
      rate: 50,
      keys: 2,
      opsPerKey: 7,
      seed: 99,
      seedGiven: true,
      testCount: 3,
      opTimeoutMs: 800,
      checkTimeLimitS: 5,
    });
    expect(o.concurrency).toBe(6); // 2n of 3 nodes
    expect(opts(['--node-count', '7']).nodes).toBe(7);
    expect(opts(['--seed=4294967295']).seed).toBe(4294967295);
  });

  it('--values plain|large', () => {
    expect(opts([]).values).toBe('plain');
    expect(opts(['--values', 'large']).values).toBe('large');
  });

  it('--concurrency N and Nn', () => {
    expect(opts(['--concurrency', '4']).concurrency).toBe(4);
    expect(opts(['--concurrency', '3n']).concurrency).toBe(15);
    expect(opts(['--nodes', '3', '--concurrency', '1n']).concurrency).toBe(3);
    expect(parseConcurrency('2n', 9)).toBe(18);
  });

  it('--nemesis lists, all and none; canonical order; default test name', () => {
    expect(opts(['--nemesis', 'kill,partition']).nemesis).toEqual(['partition', 'kill']);
    expect(opts(['--nemesis', 'kill,partition']).testName).toBe('rift-partition-kill');
    // `all` includes disk-full, which needs root (a tmpfs per data directory).
    expect(opts(['--nemesis', 'all'], { isRoot: true }).testName).toBe('rift-all');
    expect(opts(['--nemesis', 'all'], { isRoot: true }).nemesis).toEqual([
      'partition',
      'kill',
      'pause',
      'clock',
      'loss',
      'delay',
      'duplicate',
      'client-loss',
      'replay',
      'disk',
      'disk-full',
      'lease-restart',
      'relead',
      'membership',
      'resize',
      'rejoin',
      'change-race',
    ]);
    expect(opts(['--nemesis', 'none']).nemesis).toEqual([]);
    expect(opts(['--nemesis', 'pause,pause']).nemesis).toEqual(['pause']);
  });

  it('--nemesis-interval defaults to min(4, time-limit/6.5): three fault cycles fit', () => {
    expect(opts(['--nemesis', 'kill', '--time-limit', '10']).nemesisIntervalS).toBe(1.5);
    expect(opts(['--nemesis', 'kill', '--time-limit', '100']).nemesisIntervalS).toBe(4);
    expect(opts(['--nemesis', 'kill']).nemesisIntervalS).toBe(4);
    for (const t of [3, 6, 10, 20, 30, 60]) {
      const interval = opts(['--nemesis', 'kill', '--time-limit', String(t)]).nemesisIntervalS * 1000;
      expect(cyclesThatFit(interval, interval, t * 1000), `--time-limit ${t}`).toBeGreaterThanOrEqual(3);
    }
    expect(opts(['--nemesis', 'kill', '--nemesis-interval', '1.5']).nemesisIntervalS).toBe(1.5);
  });

  it('--partition shapes', () => {
    expect(opts(['--nemesis', 'partition', '--partition', 'halves,leader']).partitionShapes).toEqual(['leader', 'halves']);
  });

  it('--nemesis disk-full needs root (a tmpfs per data directory), as --net netns does', () => {
    expect(usage(['--nemesis', 'disk-full'], { isRoot: false })).toBe(
      "--nemesis disk-full fills a tmpfs per node's data directory: mounting a tmpfs per data directory needs root (run as root, or leave disk-full out)",
    );
    expect(usage(['--nemesis', 'all'], { isRoot: false })).toMatch(/^--nemesis disk-full fills a tmpfs/);
    expect(opts(['--nemesis', 'disk-full,kill'], { isRoot: true }).nemesis).toEqual(['kill', 'disk-full']);
    // Not on --hosts: each node's tmpfs is mounted on this machine.
    expect(usage(['--nemesis', 'disk-full', '--hosts', 'a,b,c'], { isRoot: true })).toMatch(/--nemesis disk-full: not on --hosts/);
  });

  it('--targets voter: a kill target that needs the relay', () => {
    expect(opts(['--nemesis', 'kill,loss', '--targets', 'voter,all']).targets).toEqual(['all', 'voter']);
    expect(usage(['--nemesis', 'pause', '--targets', 'voter'])).toMatch(/voter is a kill or disk target/);
    expect(usage(['--nemesis', 'kill', '--targets', 'voter', '--net', 'netns'], { isRoot: true })).toMatch(/needs --net relay/);
  });

  it('refuses what it cannot honour: a fault the network mode cannot apply, a kind left without a target', () => {
    expect(usage(['--nemesis', 'delay', '--net', 'netns'], { isRoot: true })).toMatch(
      /--nemesis delay needs --net relay \(netns mode has no delay/,
    );
    expect(usage(['--nemesis', 'partition,delay', '--net', 'netns'], { isRoot: true })).toMatch(/--nemesis delay needs --net relay/);
    expect(usage(['--nemesis', 'change-race', '--net', 'netns'], { isRoot: true })).toMatch(
      /--nemesis change-race needs --net relay \(only the relay can let only votes through/,
    );
    expect(opts(['--nemesis', 'partition,loss,duplicate', '--net', 'netns'], { isRoot: true }).nemesis).toEqual([
      'partition',
      'loss',
      'duplicate',
    ]);
    expect(usage(['--nemesis', 'kill,pause', '--targets', 'voter'])).toMatch(
      /--nemesis pause has no target in --targets voter \(pause takes one, leader, minority, majority, all, follower\)/,
    );
    expect(usage(['--nemesis', 'kill,clock', '--targets', 'voter'])).toMatch(/--nemesis clock has no target/);
    expect(opts(['--nemesis', 'kill,pause', '--targets', 'voter,leader']).targets).toEqual(['leader', 'voter']);
  });

  it('--net, --read-mode, --node-flag', () => {
    expect(opts(['--net', 'netns'], { isRoot: true }).net).toBe('netns');
    expect(opts(['--read-mode', 'lease']).readMode).toBe('lease');
    // Kinds that leave what a lease assumes are refused with lease reads (bad-input table below), except where the
    // margin is wide (the gate's timings) or the run is about an unsafe lease anyway.
    expect(
      opts(['--nemesis', 'lease-restart', '--read-mode', 'lease', '--election-timeout', '4000-4500', '--heartbeat', '100']).nemesis,
    ).toEqual(['lease-restart']);
    expect(opts(['--nemesis', 'relead', '--read-mode', 'lease', '--node-flag=--unsafe-lease-ms=50']).nemesis).toEqual(['relead']);
    expect(opts(['--nemesis', 'relead']).nemesis).toEqual(['relead']);
    expect(opts(['--node-flag=--unsafe-local-reads', '--node-flag=--unsafe-no-persist-vote']).nodeFlags).toEqual([
      '--unsafe-local-reads',
      '--unsafe-no-persist-vote',
    ]);
    expect(opts(['--read-mode', 'lease', '--node-flag=--unsafe-lease-ms=50']).nodeFlags).toEqual(['--unsafe-lease-ms=50']);
  });

  it('--nemesis keeps the listed order for the schedule (nemesisOrder), canonical order for the name', () => {
    const o = opts(['--nemesis', 'clock,partition']);
    expect(o.nemesis).toEqual(['partition', 'clock']);
    expect(o.nemesisOrder).toEqual(['clock', 'partition']);
    expect(opts(['--nemesis', 'kill,all'], { isRoot: true }).nemesisOrder).toEqual([
      'kill',
      'partition',
      'pause',
      'clock',
      'loss',
      'delay',
      'duplicate',
      'client-loss',
      'replay',
      'disk',
      'disk-full',
      'lease-restart',
      'relead',
      'membership',
      'resize',
      'rejoin',
      'change-race',
    ]);
    expect(opts([]).nemesisOrder).toEqual([]);
  });

  it('--clock-faults and --loss-rates', () => {
    expect(opts([]).clockFaults).toEqual(['bump', 'rate']);
    expect(opts([]).lossPct).toEqual({ min: 10, max: 50 });
    expect(opts(['--nemesis', 'clock', '--clock-faults', 'slow']).clockFaults).toEqual(['slow']);
    expect(opts(['--nemesis', 'clock', '--clock-faults', 'fast,bump']).clockFaults).toEqual(['bump', 'fast']);
    expect(opts(['--nemesis', 'loss', '--loss-rates', '0.3-0.45']).lossPct).toEqual({ min: 30, max: 45 });
    expect(opts(['--nemesis', 'loss', '--loss-rates', '1']).lossPct).toEqual({ min: 100, max: 100 });
  });

  it('--client-loss-rates and --client-loss-directions; client-loss is for rift only', () => {
    expect(opts([]).clientLossPct).toEqual({ min: 20, max: 50 });
    expect(opts([]).clientLossDirections).toEqual(['replies']);
    expect(opts(['--nemesis', 'client-loss', '--client-loss-rates', '0.1-0.9']).clientLossPct).toEqual({ min: 10, max: 90 });
    expect(opts(['--nemesis', 'client-loss', '--client-loss-directions', 'both,replies']).clientLossDirections).toEqual([
      'replies',
      'both',
    ]);
    expect(usage(['--nemesis', 'client-loss', '--client-loss-rates', '0.9-0.1'])).toMatch(/--client-loss-rates must be LO-HI/);
    expect(usage(['--nemesis', 'client-loss', '--client-loss-directions', 'sideways'])).toMatch(
      /--client-loss-directions: unknown direction "sideways"/,
    );
    expect(usage(['--nemesis', 'loss', '--client-loss-rates', '0.5'])).toMatch(/--client-loss-rates needs --nemesis client-loss/);
    // etcd's clients are not rift's: the system does not list the kind, and the options refuse it (where etcd is installed).
    expect(etcdSystem.kinds).not.toContain('client-loss');
    if (etcdSystem.unavailable() === null)
      expect(usage(['--db', 'etcd', '--nemesis', 'client-loss'])).toMatch(/--nemesis client-loss: --db etcd cannot carry it/);
  });

  it('--clock-via: node by default; faketime moves the wall clock only (bump), for systems that allow it', () => {
    expect(opts([]).clockVia).toBe('node');
    expect(opts(['--nemesis', 'clock']).clockFaults).toEqual(['bump', 'rate']);
    if (faketimeUnavailableReason() === null) {
      const o = opts(['--nemesis', 'clock', '--clock-via', 'faketime']);
      expect(o.clockVia).toBe('faketime');
      expect(o.clockFaults).toEqual(['bump']);
      expect(usage(['--nemesis', 'clock', '--clock-via', 'faketime', '--clock-faults', 'bump,slow'])).toMatch(
        /--clock-via faketime moves the wall clock only: --clock-faults bump \(slow need the node's own clock\)/,
      );
    } else {
      expect(usage(['--nemesis', 'clock', '--clock-via', 'faketime'])).toMatch(/--clock-via faketime: .*libfaketime/);
    }
    expect(usage(['--clock-via', 'faketime'])).toMatch(/--clock-via needs --nemesis clock/);
    expect(usage(['--nemesis', 'clock', '--clock-via', 'sundial'])).toMatch(/--clock-via/);
    expect(usage(['--db', 'etcd', '--net', 'loopback', '--nemesis', 'kill', '--clock-via', 'faketime'])).toMatch(
      /--clock-via needs --nemesis clock/,
    );
  });

  it('--snapshot-every-entries: rift only, a positive integer', () => {
    expect(opts([]).snapshotEveryEntries).toBeNull();
    expect(opts(['--snapshot-every-entries', '20']).snapshotEveryEntries).toBe(20);
    expect(usage(['--snapshot-every-entries', '0'])).toMatch(/--snapshot-every-entries must be an integer from 1/);
    expect(usage(['--db', 'etcd', '--net', 'loopback', '--snapshot-every-entries', '20'])).toMatch(
      /--snapshot-every-entries is a rift node option: --db etcd does not take it/,
    );
  });

  it('--snapshot-chunk-bytes: rift only, 1 to the node default', () => {
    expect(opts([]).snapshotChunkBytes).toBeNull();
    expect(opts(['--snapshot-chunk-bytes', '128']).snapshotChunkBytes).toBe(128);
    expect(usage(['--snapshot-chunk-bytes', '0'])).toMatch(/--snapshot-chunk-bytes must be an integer from 1/);
    expect(usage(['--snapshot-chunk-bytes', '61441'])).toMatch(/--snapshot-chunk-bytes must be an integer from 1 to 61440/);
    expect(usage(['--db', 'etcd', '--net', 'loopback', '--snapshot-chunk-bytes', '128'])).toMatch(
      /--snapshot-chunk-bytes is a rift node option: --db etcd does not take it/,
    );
  });

  it('--max-sessions: rift only, 1 to 1,000,000', () => {
    expect(opts([]).maxSessions).toBeNull();
    expect(opts(['--max-sessions', '4']).maxSessions).toBe(4);
    expect(usage(['--max-sessions', '0'])).toMatch(/--max-sessions must be an integer from 1 to 1000000/);
    expect(usage(['--db', 'etcd', '--net', 'loopback', '--max-sessions', '4'])).toMatch(
      /--max-sessions is a rift node option: --db etcd does not take it/,
    );
  });

  it('booleans and strings', () => {
    const o = opts(['--leave-running', '--quiet', '--json', '--store', '/tmp/x', '--test-name', 'my.test-1']);
    expect(o).toMatchObject({ leaveRunning: true, quiet: true, json: true, store: '/tmp/x', testName: 'my.test-1' });
  });
});

describe('parseOptions: bad arguments are UsageErrors with one clear line', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['positional'], /positional/i],
    [['--nodes', '0'], /--nodes must be an integer from 1 to 9/],
    [['--nodes', '10'], /--nodes must be an integer from 1 to 9/],
    [['--nodes', '2.5'], /--nodes must be an integer/],
    [['--nodes', 'five'], /--nodes must be an integer/],
    [['--nodes', '3', '--node-count', '3'], /not both/],
    [['--time-limit', '0'], /--time-limit must be a number from 1/],
    [['--time-limit', 'abc'], /--time-limit must be a number/],
    [['--concurrency', 'x2'], /--concurrency must be an integer or a multiple/],
    [['--concurrency', '0'], /--concurrency must come to 1\.\.1000/],
    [['--concurrency', '300n'], /--concurrency must come to 1\.\.1000 workers, got 300n = 1500/],
    [['--rate', '0'], /--rate must be a number from 0.1/],
    [['--rate', '-5'], /--rate/],
    [['--keys', '0'], /--keys must be an integer from 1/],
    [['--ops-per-key', '1.5'], /--ops-per-key must be an integer/],
    [['--nemesis', 'chaos'], /--nemesis: unknown fault "chaos"/],
    [['--nemesis', 'partition,,kill'], /without empty items/],
    [['--nemesis', 'none,kill'], /"none" cannot be combined/],
    [['--nemesis', 'kill', '--nemesis-interval', '0'], /--nemesis-interval must be a number/],
    [['--nemesis', 'kill', '--time-limit', '10', '--nemesis-interval', '5'], /leaves no time for a fault/],
    [['--nemesis', 'partition', '--partition', 'triangle'], /--partition: unknown shape "triangle"/],
    [['--partition', 'halves'], /--partition needs --nemesis partition/],
    [['--clock-faults', 'slow'], /--clock-faults needs --nemesis clock/],
    [['--nemesis', 'clock', '--clock-faults', 'warp'], /--clock-faults: unknown clock fault "warp"/],
    [['--nemesis', 'clock', '--clock-faults', 'slow,,bump'], /without empty items/],
    [['--loss-rates', '0.2'], /--loss-rates needs --nemesis loss/],
    [['--nemesis', 'loss', '--loss-rates', '0.5-0.2'], /--loss-rates must be LO-HI/],
    [['--nemesis', 'loss', '--loss-rates', '1.5'], /--loss-rates must be/],
    [['--nemesis', 'loss', '--loss-rates', '0.125'], /steps of 0.01/],
    [['--nemesis', 'loss', '--loss-rates', 'lots'], /--loss-rates must be/],
    [['--seed=-1'], /--seed must be an integer from 0 to 4294967295/],
    [['--seed', '-1'], /--seed: a value starting with "-" must be attached with "="/],
    [['--seed', '4294967296'], /--seed/],
    [['--seed', '4294967295', '--test-count', '2'], /past the largest seed/],
    [['--test-count', '0'], /--test-count/],
    [['--net', 'tcp'], /--net must be one of relay, netns/],
    [['--net', 'netns'], /--net netns needs root/],
    [['--read-mode', 'stale'], /--read-mode must be one of readindex, lease/],
    [['--node-flag', '--unsafe-local-reads'], /--node-flag: a value starting with "-" must be attached with "=", e.g. --node-flag=-x/],
    [['--node-flag=--fast'], /unknown node flag "--fast"/],
    [['--node-flag=--unsafe-lease-ms'], /needs a value/],
    [['--node-flag=--unsafe-lease-ms=0', '--read-mode', 'lease'], /must be an integer from 1/],
    [['--node-flag=--unsafe-lease-ms=50'], /needs --read-mode lease/],
    [['--nemesis', 'relead', '--read-mode', 'lease'], /relead slows the leader's clock to 0.1-0.25x/],
    [['--nemesis', 'lease-restart', '--read-mode', 'lease'], /150 ms against a 110 ms lease leaves 40 ms/],
    [['--nemesis', 'all', '--read-mode', 'lease'], /relead slows/],
    [['--node-flag=--unsafe-memory-log', '--node-flag=--unsafe-ack-before-fsync'], /alternatives/],
    [['--store', ''], /--store/],
    [['--test-name', 'a/b'], /--test-name must be/],
    [['--test-name', 'latest'], /--test-name/],
    [['--leave-running', '--test-count', '2'], /--leave-running/],
    [['--op-timeout', '5'], /--op-timeout must be an integer from 10/],
    [['--values', 'huge'], /--values/],
    [['--check-time-limit', '0'], /--check-time-limit/],
  ];
  for (const [argv, pattern] of cases) {
    it(argv.join(' '), () => {
      const message = usage(argv, argv.includes('netns') && argv.includes('tcp') ? { isRoot: true } : { isRoot: false });
      expect(message).toMatch(pattern);
      expect(message).not.toContain('\n');
    });
  }
});

describe('the compiled CLI', () => {
  it('exits 254 with one clear line on an unknown flag', () => {
    const cli = join(repoRoot, 'dist', 'harness', 'cli.js');
    if (!existsSync(cli))
      execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
        cwd: repoRoot,
        env: { ...process.env, RIFT_BUILD_LENIENT: '1' },
      });
    const r = spawnSync(process.execPath, [cli, '--bogus'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(254);
    expect(r.stderr.trim()).toBe("rift jepsen: Unknown option '--bogus'; see --help");
    expect(r.stdout).toBe('');
  });
});

describe('parseOptions: node timers', () => {
  it('defaults to the node config defaults (150-300 ms, 50 ms heartbeat)', () => {
    expect(opts([])).toMatchObject({ electionTimeoutMs: [150, 300], heartbeatIntervalMs: 50 });
  });

  it('takes an election timeout range and derives a heartbeat at most half its minimum', () => {
    expect(opts(['--election-timeout', '60-120'])).toMatchObject({ electionTimeoutMs: [60, 120], heartbeatIntervalMs: 30 });
    expect(opts(['--election-timeout', '200-400', '--heartbeat', '20'])).toMatchObject({
      electionTimeoutMs: [200, 400],
      heartbeatIntervalMs: 20,
    });
  });

  it('rejects malformed or unsafe timer settings', () => {
    expect(usage(['--election-timeout', '300-150'])).toMatch(/--election-timeout must be MIN-MAX/);
    expect(usage(['--election-timeout', 'fast'])).toMatch(/--election-timeout must be MIN-MAX/);
    expect(usage(['--election-timeout', '100-200', '--heartbeat', '80'])).toMatch(/--heartbeat \(80 ms\) must be at most half/);
    expect(HELP).toContain('--election-timeout');
    expect(HELP).toContain('--heartbeat');
  });
});
