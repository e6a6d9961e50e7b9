/**
 * rift's membership capability (Db.membership): changes through the admin
 * key (derived from the config's peer secret, as `rift-node admin` does),
 * the same path on loopback (rift-db.ts) and on `--hosts`
 * (remote-rift-db.ts): admin requests are authenticated UDP datagrams that
 * reach a node wherever it runs. One RiftAdmin (one UDP socket) per
 * command, closed when it is answered, so nothing outlives a run.
 */
import { RiftAdmin, type AdminConfig, type AdminResult } from '../../../node/admin-client.js';
import type { MembershipCapability } from '../db.js';

export function riftMembership(config: AdminConfig): MembershipCapability {
  const admin = async (timeoutMs: number, run: (admin: RiftAdmin) => Promise<AdminResult>, ask?: string): Promise<AdminResult> => {
    const client = new RiftAdmin({ config, timeoutMs, ...(ask !== undefined ? { initialNode: ask } : {}) });
    try {
      return await run(client);
    } finally {
      client.close();
    }
  };
  return {
    change: (command, node, timeoutMs, ask) =>
      admin(timeoutMs, (a) => (command === 'add' ? a.add(node) : command === 'promote' ? a.promote(node) : a.remove(node)), ask),
    status: (timeoutMs) => admin(timeoutMs, (a) => a.status()),
  };
}
