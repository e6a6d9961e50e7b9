/**
 * The second analysis of a run: the wire invariant monitor (net/monitor.ts),
 * which judges what the nodes said to each other (Election Safety, one vote
 * per term, a vote that survives a crash) independently of the client
 * history. Where the fault layer sees the peer datagrams (the relay) the
 * cluster scope attaches it through NetworkControl; its report becomes an
 * Analysis beside the checker's, and any violation makes the run invalid
 * whatever the history shows.
 */
import { addressBook, type ClusterConfig } from '../../node/config-types.js';
import { RaftWireMonitor, type MonitorViolation } from '../net/monitor.js';
import type { NetworkControl, WireMonitorReport } from '../net/types.js';
import { boundFindings, type Analysis } from './analysis.js';

/** Reads the attached monitor's report (at analysis time, and for results.json after a crash). */
export type WireProbe = () => WireMonitorReport | null;

/**
 * Attaches a monitor where `net` can show it the peer datagrams; returns how
 * to read its report, or null where the fault layer has no monitor
 * capability (netns, direct). Each violation is passed to `onViolation` as
 * it is seen.
 */
export function watchWire(
  net: NetworkControl,
  config: Pick<ClusterConfig, 'peerSecret' | 'cluster' | 'nodes'> & Partial<Pick<ClusterConfig, 'spareNodes'>>,
  onViolation: (v: MonitorViolation) => void,
  nowMs?: () => number,
): WireProbe | null {
  if (net.attachMonitor === undefined || net.monitorReport === undefined) return null;
  net.attachMonitor(
    new RaftWireMonitor({
      peerSecret: config.peerSecret,
      // Spare identities may become members (issue 18): the monitor verifies their datagrams too.
      nodeIds: addressBook(config).map((n) => n.id),
      bootstrapVoters: config.nodes.map((n) => n.id),
      commitQuorum: true,
      cluster: config.cluster,
      onViolation,
      ...(nowMs !== undefined ? { nowMs } : {}),
    }),
  );
  return () => net.monitorReport?.() ?? null;
}

/** A violation as a history value (the `monitor` process's info op). */
export function violationValue(v: MonitorViolation): Record<string, unknown> {
  return { ...v, atMs: Math.round(v.atMs) };
}

export function wireMonitorAnalysis(report: WireMonitorReport): Analysis {
  const violations = report.violations;
  if (violations.length === 0 && report.counts.violationsDropped === 0) {
    return {
      name: 'wire-monitor',
      valid: true,
      conclusion: 'no Raft invariant violated on the wire',
      brief: 'monitor: no violation',
      findings: [],
    };
  }
  const count = violations.length + report.counts.violationsDropped;
  const first = violations.reduce<number | null>((m, v) => (m === null || v.atMs < m ? v.atMs : m), null);
  return {
    name: 'wire-monitor',
    valid: false,
    ...(first !== null ? { firstFindingAtMs: first } : {}),
    conclusion: 'Raft invariant violated on the wire',
    brief: `monitor: ${count} violation${count === 1 ? '' : 's'}`,
    findings: boundFindings(
      violations.map((v) => `monitor: ${v.message}`),
      (left) => `monitor: ... ${left} more (results.json)`,
    ),
  };
}
