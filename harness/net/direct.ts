/**
 * 'direct' network mode (benchmarks): nodes talk to each other's own
 * addresses, with no relay and no fault injection. Healing is a no-op; asking
 * for a fault is a clear error.
 */
import type { Grudge, NetStats, NetworkControl, PacketFaults } from './types.js';

export class DirectNetwork implements NetworkControl {
  async partition(_grudge: Grudge): Promise<void> {
    throw new Error("partitions need net 'relay' or 'netns' (this cluster runs with net 'direct')");
  }
  async heal(): Promise<void> {}
  async setFaults(_faults: PacketFaults): Promise<void> {
    throw new Error("packet faults need net 'relay' or 'netns' (this cluster runs with net 'direct')");
  }
  async clearFaults(): Promise<void> {}
  stats(): NetStats {
    return { forwarded: 0, dropped: 0, duplicated: 0, delayed: 0 };
  }
}
