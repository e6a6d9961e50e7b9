/**
 * The pieces of --hosts that need no SSH server: the host list, shell
 * quoting, the lease script run by this machine's own sh, the per-host
 * nftables rulesets (through a recording Remote), and the help.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HostsNetwork } from '../../../harness/net/hosts.js';
import { HELP, parseOptions, UsageError } from '../../../harness/options.js';
import { leasedProcessCommand, parseLeaseLine } from '../../../harness/remote/host-scripts.js';
import { parseHostList } from '../../../harness/remote/hosts.js';
import { LocalRemote } from '../../../harness/remote/local.js';
import { CONTROL_FD, shellQuote, type CommandResult, type Lease, type Remote } from '../../../harness/remote/remote.js';
import { processGone, waitFor } from '../wait.js';

describe('host lists', () => {
  it('accepts names and addresses; refuses junk, duplicates, empty lists and more than 9', () => {
    expect(parseHostList(['db1.example.com', ' 10.0.0.2 ', 'fe80::1'], '--hosts')).toEqual(['db1.example.com', '10.0.0.2', 'fe80::1']);
    expect(() => parseHostList(['a', 'b c'], '--hosts')).toThrow('"b c" is not a host name or an IP address');
    expect(() => parseHostList(['a;rm -rf /'], '--hosts')).toThrow('is not a host name');
    expect(() => parseHostList(['a', 'a'], '--hosts')).toThrow('a is listed twice');
    expect(() => parseHostList(['', ' '], '--hosts')).toThrow('no hosts');
    expect(() =>
      parseHostList(
        Array.from({ length: 10 }, (_, i) => `h${i}`),
        '--hosts',
      ),
    ).toThrow('at most 9');
  });

  it('the options: --hosts sets the node count and the net; --ssh-* need --hosts; a bad --remote-dir is refused', () => {
    const parsed = parseOptions(['--hosts', 'h1,h2,h3', '--ssh-user', 'admin', '--ssh-port', '2222']);
    expect(parsed.kind).toBe('run');
    if (parsed.kind !== 'run') return;
    expect(parsed.options.nodes).toBe(3);
    expect(parsed.options.net).toBe('hosts');
    expect(parsed.options.hosts).toMatchObject({ hosts: ['h1', 'h2', 'h3'], user: 'admin', port: 2222, keyPath: null, knownHosts: null });
    expect(() => parseOptions(['--ssh-key', '/nonexistent'])).toThrow('--ssh-key needs --hosts or --hosts-file');
    expect(() => parseOptions(['--hosts', 'h1', '--ssh-key', '/nonexistent/key'])).toThrow('no such file');
    expect(() => parseOptions(['--hosts', 'h1', '--net', 'netns'])).toThrow('--net netns does not apply with --hosts');
    expect(() => parseOptions(['--hosts', 'h1', '--db', 'etcd', '--net', 'relay'])).toThrow('--net relay does not apply with --hosts');
    expect(() => parseOptions(['--hosts', 'h1', '--remote-dir', 'relative'])).toThrow(UsageError);
    expect(() => parseOptions(['--hosts', 'h1', '--nemesis', 'delay'])).toThrow('not on --hosts');
    expect(() => parseOptions(['--hosts', 'h1', '--nemesis', 'delay'])).toThrow('with --net relay it does');
    // rift's peer datagrams through the relay on this machine: the relay's kinds too, and partitions there.
    const relayed = parseOptions(['--hosts', 'h1,h2,h3', '--net', 'relay', '--nemesis', 'partition,delay,duplicate,replay,relead,loss']);
    expect(relayed).toMatchObject({ kind: 'run', options: { net: 'relay', nodes: 3 } });
    expect(parseOptions(['--hosts', 'h1,h2,h3', '--nemesis', 'lease-restart'])).toMatchObject({ options: { nemesis: ['lease-restart'] } });
    expect(() => parseOptions(['--hosts', 'h1', '--db', 'etcd', '--nemesis', 'lease-restart'])).toThrow(UsageError);
    // rift's own clock over the node's ssh session (--control-fd); libfaketime only on this machine.
    expect(parseOptions(['--hosts', 'h1', '--nemesis', 'clock'])).toMatchObject({ options: { nemesis: ['clock'] } });
    expect(() => parseOptions(['--hosts', 'h1', '--nemesis', 'clock', '--clock-via', 'faketime'])).toThrow('not on --hosts');
  });

  it('the help documents --db, --hosts and the --ssh-* options', () => {
    for (const flag of [
      '--db',
      '--etcd-serializable-reads',
      '--hosts',
      '--hosts-file',
      '--ssh-user',
      '--ssh-key',
      '--ssh-port',
      '--ssh-known-hosts',
      '--remote-dir',
    ])
      expect(HELP).toContain(flag);
  });
});

describe('host scripts', () => {
  it('shellQuote survives sh for awkward words', () => {
    const words = ["it's", 'a b', '$HOME', '`x`', '"q"', 'plain-1.2/x', ''];
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(out).toBe(words.map((w) => `${w}\n`).join(''));
  });

  it('a leased process reports its pid and exit, and is killed (even paused) when the lease input ends', async () => {
    const run = (args: string[]) => {
      const child = spawn('sh', ['-c', leasedProcessCommand(args[0]!, args.slice(1), '/dev/null', undefined)], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      const lines: string[] = [];
      child.stdout.on('data', (d: Buffer) =>
        lines.push(
          ...d
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        ),
      );
      return { child, lines };
    };
    const done = run(['sh', '-c', 'exit 7']);
    await waitFor(() => done.lines.some((l) => l.startsWith('exit')), 10_000, 'the exit line');
    expect(parseLeaseLine(done.lines[0]!)).toMatchObject({ pid: expect.any(Number) });
    expect(parseLeaseLine(done.lines.at(-1)!)).toEqual({ status: 7 });
    done.child.stdin.end();

    const held = run(['sleep', '1000']);
    await waitFor(() => held.lines.length > 0, 10_000, 'the pid line');
    const pid = (parseLeaseLine(held.lines[0]!) as { pid: number }).pid;
    process.kill(pid, 'SIGSTOP');
    held.child.stdin.end(); // the harness is gone
    await waitFor(() => processGone(pid), 10_000, 'the paused process is killed');
    await waitFor(() => held.lines.some((l) => l.startsWith('exit')), 10_000, 'its exit line');
    expect(parseLeaseLine(held.lines.at(-1)!)).toEqual({ status: 128 + 9 });
  });

  // An echo server on the control channel: each request line comes back on CONTROL_FD as {"echo": line}.
  const echo =
    `const fs=require('fs');const rl=require('readline').createInterface({input:process.stdin});` +
    `rl.on('line',(l)=>fs.writeSync(${CONTROL_FD},JSON.stringify({echo:l})+'\\n'));rl.on('close',()=>process.exit(5));`;

  it('with a control channel, requests reach the process and its answers come back between the pid and exit lines', async () => {
    const child = spawn('sh', ['-c', leasedProcessCommand('node', ['-e', echo], '/dev/null', undefined, true)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const parsed: ReturnType<typeof parseLeaseLine>[] = [];
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        parsed.push(parseLeaseLine(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
    });
    await waitFor(() => parsed.length > 0, 10_000, 'the pid line');
    const pid = (parsed[0] as { pid: number }).pid;
    child.stdin.write('{"type":"clock","rate":2}\n');
    child.stdin.write('second\n');
    await waitFor(() => parsed.length >= 3, 10_000, 'two answers');
    expect(parsed.slice(1, 3)).toEqual([
      { control: JSON.stringify({ echo: '{"type":"clock","rate":2}' }) },
      { control: JSON.stringify({ echo: 'second' }) },
    ]);
    // The session's input ends (the harness is gone): the process sees its input end, or is killed.
    child.stdin.end();
    await waitFor(() => processGone(pid), 10_000, 'the process ends with the session');
    await waitFor(() => parsed.some((p) => p !== null && 'status' in p), 10_000, 'its exit line');
  });

  it('LocalRemote.start with a control channel: the same requests and answers as over ssh', async () => {
    const proc = await new LocalRemote().start({ command: 'node', args: ['-e', echo], logPath: '/dev/null', control: true });
    const answers: string[] = [];
    proc.control!.onLine((line) => answers.push(line));
    proc.control!.send('ping');
    await waitFor(() => answers.length === 1, 10_000, 'the answer');
    expect(JSON.parse(answers[0]!)).toEqual({ echo: 'ping' });
    await new LocalRemote().killHard(proc.pid);
    expect(await proc.exited).toEqual({ kind: 'signal', signal: 'SIGKILL' });
    proc.control!.send('after the end'); // dropped, never thrown
  });
});

/** A Remote that records what it is asked to run (unit test of net/hosts.ts alone). */
class RecordingRemote implements Remote {
  readonly runs: { command: string; args: readonly string[]; input: string | undefined }[] = [];
  released = 0;
  constructor(readonly host: string) {}
  async run(command: string, args: readonly string[], opts: { readonly input?: string } = {}): Promise<CommandResult> {
    this.runs.push({ command, args, input: opts.input });
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async upload(): Promise<void> {}
  async download(): Promise<void> {}
  async start(): Promise<never> {
    throw new Error('not here');
  }
  async signal(): Promise<boolean> {
    return true;
  }
  async killHard(): Promise<boolean> {
    return true;
  }
  async procState(): Promise<string | null> {
    return null;
  }
  killSync(): void {}
  async lease(): Promise<Lease> {
    return { release: async () => void this.released++, releaseSync: () => void this.released++ };
  }
  async close(): Promise<void> {}
}

describe('nftables on hosts', () => {
  it('each host drops exactly the peers its grudge names, by address; heal empties the chains; teardown releases the leases', async () => {
    const remotes = ['a', 'b', 'c'].map((h) => new RecordingRemote(h));
    const addresses = ['10.0.0.1', '10.0.0.2', 'fd00::3'];
    const net = await HostsNetwork.create(remotes.map((remote, i) => ({ id: `n${i + 1}`, address: addresses[i]!, remote })));
    const lastRuleset = (i: number): string => remotes[i]!.runs.filter((r) => r.command === 'nft').at(-1)!.input!;
    await net.partition({ n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] });
    expect(lastRuleset(0)).toContain('ip saddr 10.0.0.2 drop');
    expect(lastRuleset(0)).toContain('ip6 saddr fd00::3 drop');
    expect(lastRuleset(1)).toContain('ip saddr 10.0.0.1 drop');
    expect(lastRuleset(1)).not.toContain('fd00::3');
    expect(lastRuleset(2)).toContain('ip saddr 10.0.0.1 drop');
    expect(lastRuleset(2)).not.toContain('10.0.0.2');
    await net.setFaults({ lossRate: 0.25 }, [['n2', 'n3']]);
    expect(lastRuleset(2)).toContain('ip saddr 10.0.0.2 numgen random mod 1000 < 250 drop');
    await expect(net.setFaults({ delayMs: 10 })).rejects.toThrow('not available on --hosts');
    await net.heal();
    await net.clearFaults();
    for (let i = 0; i < 3; i++) expect(lastRuleset(i)).not.toContain('drop');
    await net.teardown();
    expect(remotes.map((r) => r.released)).toEqual([1, 1, 1]);
  });
});
