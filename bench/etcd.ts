/**
 * The reference system of `npm run bench -- cluster --vs etcd`: a 5-member
 * etcd 3.4 cluster (Debian's `etcd-server`) on loopback, started here with
 * its own free ports and a temp data directory, and a client with the same
 * shape as the rift bench's (one op at a time, closed loop, on the leader).
 *
 * The client speaks etcd's v3 JSON gateway over HTTP/1.1 keep-alive
 * (POST /v3/kv/put, /v3/kv/range) with node:http: no new dependency (the
 * `etcd3` npm package would bring a gRPC stack for a benchmark). Reads are
 * etcd's default linearizable reads (ReadIndex, as rift's default), writes
 * are fsynced (etcd's WAL default, as rift's log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freeTcpPort } from '../harness/db/etcd/etcd-binary.js';

export { etcdVersion } from '../harness/db/etcd/etcd-binary.js';

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  proc: ChildProcess | null;
}

export interface EtcdTimings {
  /** etcd's --heartbeat-interval and --election-timeout, set to rift's (50 ms, and its maximum election timeout). */
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: number;
}

export class EtcdCluster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  private constructor(
    private readonly bin: string,
    private readonly dataDir: string,
    readonly members: Member[],
    private readonly timings: EtcdTimings,
    private readonly token: string,
  ) {}

  static async start(bin: string, dataDir: string, size: number, timings: EtcdTimings): Promise<EtcdCluster> {
    const members: Member[] = [];
    for (let i = 1; i <= size; i++) {
      members.push({
        name: `e${i}`,
        clientUrl: `http://127.0.0.1:${await freeTcpPort()}`,
        peerUrl: `http://127.0.0.1:${await freeTcpPort()}`,
        proc: null,
      });
    }
    const cluster = new EtcdCluster(bin, dataDir, members, timings, `rift-bench-${process.pid}`);
    for (const m of members) cluster.spawn(m, 'new');
    await cluster.waitForLeader(30_000);
    return cluster;
  }

  private spawn(m: Member, state: 'new' | 'existing'): void {
    const dir = join(this.dataDir, m.name);
    mkdirSync(dir, { recursive: true });
    const args = [
      '--name',
      m.name,
      '--data-dir',
      dir,
      '--listen-client-urls',
      m.clientUrl,
      '--advertise-client-urls',
      m.clientUrl,
      '--listen-peer-urls',
      m.peerUrl,
      '--initial-advertise-peer-urls',
      m.peerUrl,
      '--initial-cluster',
      this.members.map((x) => `${x.name}=${x.peerUrl}`).join(','),
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      this.token,
      '--heartbeat-interval',
      String(this.timings.heartbeatMs),
      '--election-timeout',
      String(this.timings.electionTimeoutMs),
      '--log-level',
      'error',
      '--logger',
      'zap',
    ];
    m.proc = spawn(this.bin, args, { stdio: 'ignore' });
    m.proc.on('exit', () => {
      m.proc = null;
    });
  }

  /** POST a v3 JSON gateway call to one member. */
  call(m: Member, path: string, body: unknown, timeoutMs = 5000): Promise<{ status: number; json: Record<string, unknown> }> {
    const data = Buffer.from(JSON.stringify(body));
    const url = new URL(path, m.clientUrl);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': data.length },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({
                status: res.statusCode ?? 0,
                json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
              });
            } catch (e) {
              reject(e as Error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(data);
    });
  }

  /** The member that leads now (from any member's status), or null. */
  async leader(): Promise<Member | null> {
    for (const m of this.members) {
      if (m.proc === null) continue;
      try {
        const { json } = await this.call(m, '/v3/maintenance/status', {}, 1000);
        const leaderId = json['leader'];
        const header = json['header'] as { member_id?: string } | undefined;
        if (typeof leaderId !== 'string' || leaderId === '0') continue;
        // Find the leader's member by asking each for its own id.
        for (const x of this.members) {
          if (x.proc === null) continue;
          if (x === m ? header?.member_id === leaderId : (await this.memberId(x)) === leaderId) return x;
        }
      } catch {
        // not up yet, or down
      }
    }
    return null;
  }

  private async memberId(m: Member): Promise<string | null> {
    try {
      const { json } = await this.call(m, '/v3/maintenance/status', {}, 1000);
      return (json['header'] as { member_id?: string } | undefined)?.member_id ?? null;
    } catch {
      return null;
    }
  }

  async waitForLeader(timeoutMs: number): Promise<Member> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const l = await this.leader();
      if (l !== null) return l;
      if (performance.now() > deadline) throw new Error(`etcd: no leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async put(m: Member, key: string, value: string, timeoutMs = 5000): Promise<boolean> {
    try {
      const r = await this.call(m, '/v3/kv/put', { key: b64(key), value: b64(value) }, timeoutMs);
      return r.status === 200;
    } catch {
      return false;
    }
  }

  async get(m: Member, key: string): Promise<boolean> {
    try {
      const r = await this.call(m, '/v3/kv/range', { key: b64(key) });
      return r.status === 200;
    } catch {
      return false;
    }
  }

  /** SIGKILL a member (its data stays), for failover. */
  async kill(m: Member): Promise<void> {
    const p = m.proc;
    if (p === null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  /** Restart a killed member on its data directory. */
  restart(m: Member): void {
    if (m.proc === null) this.spawn(m, 'existing');
  }

  stop(): void {
    for (const m of this.members) m.proc?.kill('SIGKILL');
    this.agent.destroy();
  }
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}
