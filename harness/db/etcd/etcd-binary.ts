/**
 * Where etcd is on this machine (Debian's `etcd-server`: the `etcd` binary),
 * and free TCP ports for a cluster on loopback. Shared by the harness's etcd
 * Db and the cluster benchmark's reference system (bench/etcd.ts).
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/** The etcd binary and its version, or null when it is not installed. */
export function etcdVersion(): { readonly bin: string; readonly version: string } | null {
  try {
    const bin = execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const version = /etcd Version: (\S+)/.exec(out)?.[1] ?? out.split('\n')[0] ?? '?';
    return { bin, version };
  } catch {
    return null;
  }
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick). */
export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
