/**
 * What loss, delay and duplication share: each is a field of the network's
 * per-link PacketFaults (harness/net/types.ts), set on every link when its
 * fault starts and zeroed when it stops, independently of the other two.
 * Their final heal is one recorded step, as it always was.
 */
import type { FinalHealStep } from '../kind.js';

/** The final-heal step of the packet faults: each zeroes its own field on every link. */
export const clearPacketFaults: FinalHealStep = { f: 'clear-packet-faults' };

/** What each packet fault's heal returns (the step's completion value). */
export const packetFaultsCleared = { cleared: true } as const;
