/**
 * Read safety (thesis §6.4; issue 15): a read that is served returns the
 * value of the latest write committed before the read started, or of a
 * later one. Checked at the moment of serving: the serving state machine
 * must have applied at least up to the latest committed entry that changed
 * the read's key when the read was invoked. (Written values are unique, so
 * a state machine that has not applied that write returns an older value.)
 */
import { decodeCommand } from '../../node/kv/command.js';
import { KvStateMachine } from '../../node/kv/state-machine.js';
import type { Entry } from '../../node/raft/types.js';

/**
 * The index of the last entry in `committed` (a committed log prefix,
 * indices 1..n) that changed `key` (a put, a delete, or a cas whose
 * precondition held); 0 when none did.
 */
export function latestWriteIndex(committed: readonly Entry[], key: string): number {
  const machine = new KvStateMachine({ log: () => {} });
  let latest = 0;
  for (const entry of committed) {
    const result = machine.apply(entry);
    if (result === null || result.kind !== 'applied' || result.result.status !== 'ok') continue;
    const decoded = decodeCommand(entry.data);
    if (decoded.ok && decoded.cmd.op.type !== 'get' && decoded.cmd.op.key === key) latest = entry.index;
  }
  return latest;
}

/** The violation message when a read served from `lastApplied` missed the write at `floorIndex`; null when safe. */
export function readSafetyViolation(op: number, key: string, value: string | null, lastApplied: number, floorIndex: number): string | null {
  if (lastApplied >= floorIndex) return null;
  return (
    `read safety: op${op} read ${key}=${value ?? 'null'} from a state machine at lastApplied ${lastApplied}, ` +
    `but the write at index ${floorIndex} was committed before the read started (thesis §6.4)`
  );
}
