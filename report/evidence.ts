// What each fault did (issue 20): the per-fault evidence a run writes into
// results.json, and its drawing in report.html. The harness builds it (from
// the history, a sampled record of who led, and the relay's per-link
// counters); report/ only defines its shape and draws it, so a results.json
// is enough to redraw it.
import { escapeHtml } from './html.js';

export interface LeaderTerm {
  readonly id: string;
  readonly term: number;
}

export interface ElectionSeen {
  readonly term: number;
  readonly leader: string;
  /** When the new leader was first seen, ms after the fault started. */
  readonly atMs: number;
  /** How long the cluster was seen without a leader before it (0: a handover between two samples). */
  readonly leaderlessMs: number;
}

export interface LinkEffect {
  readonly dropped: number;
  readonly delayed: number;
  readonly duplicated: number;
  readonly held: number;
  readonly replayed: number;
  /** Of the held ones, delivered because their sender led a later term (across terms). */
  readonly heldAcrossTerms: number;
}

export interface DatagramEffect extends LinkEffect {
  /** Links with any effect, by link key ("n1>n2"). */
  readonly byLink: Readonly<Record<string, LinkEffect>>;
}

export interface ProcessRef {
  readonly node: string;
  readonly pid: number | null;
}

export interface ProcessEffect {
  readonly killed: readonly ProcessRef[];
  readonly restarted: readonly ProcessRef[];
  /** Stopped as the kernel reports it (/proc/PID/stat state T), not as the harness believes. */
  readonly stopped: readonly (ProcessRef & { readonly state: string | null })[];
}

export interface FaultEvidence {
  readonly kind: string;
  readonly label: string;
  readonly startF: string;
  readonly stopF: string | null;
  /** The fault's start (its invoke) and end (its stop's completion), ms since the history began. */
  readonly fromMs: number;
  readonly toMs: number;
  /** What the nemesis did, in a few words ("leader n2 isolated", "killed n3, n4"). */
  readonly what: string;
  /** Faults of other kinds in force at the same time (their effects mix with this one's). */
  readonly overlaps: readonly string[];
  readonly leaderBefore: LeaderTerm | null;
  readonly leaderAfter: LeaderTerm | null;
  /** Whether the fault hit the leader it found (cut it off a quorum, killed, stopped or re-clocked it); null when it aims at no node. */
  readonly hitLeader: boolean | null;
  /** New leaders seen from the start to shortly after the end. */
  readonly elections: readonly ElectionSeen[];
  /** Nodes that did not answer (down, paused or silent) at some sample during the fault. */
  readonly unreachable: readonly string[];
  /** Nodes a partition left without a quorum in view. */
  readonly cutOff: readonly string[];
  /** What happened to datagrams on each link during the fault; null where the network layer does not count them. */
  readonly datagrams: DatagramEffect | null;
  readonly processes: ProcessEffect;
  /** The longest time without an ok op while the fault lasted. */
  readonly longestNoOkMs: number;
  /** Client ops invoked during the fault that ended info (or never ended): their effect unknown. */
  readonly infoCaused: number;
  /** What was observed, one clause each. */
  readonly effects: readonly string[];
  /** Set when nothing at all was observed: the fault had no effect, and why when known. */
  readonly noEffect: string | null;
  /**
   * What a correct node is expected to do under this fault when that is
   * "nothing" (a clock bump: it keeps time on a monotonic clock); null
   * otherwise. Effects seen beside it came from elsewhere.
   */
  readonly expectedNoEffect: string | null;
  /** The machine starved the run during the fault (a quarter of it or more): its effects may be the machine's. */
  readonly machine: { readonly harnessStalledMs: number; readonly nodeWaitShare: number | null } | null;
}

/** Progress over time, beside the op ratio: how long the system went without completing anything. */
export interface ProgressAvailability {
  /** The workload's length, ms. */
  readonly workloadMs: number;
  /** A gap between ok ops longer than this counts as a stall (time without progress). */
  readonly stallMs: number;
  /** The longest time without an ok op, and where it started (ms since the history began). */
  readonly longestGapMs: number;
  readonly longestGapAtMs: number;
  /** Share of the workload's time outside stalls. */
  readonly shareWithProgress: number;
  /** Stalls, longest first (at most 10). */
  readonly stalls: readonly { readonly atMs: number; readonly ms: number }[];
}

/** Seconds with one decimal ("1.2 s"). */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function leaderText(l: LeaderTerm | null): string {
  return l === null ? 'none' : `${l.id}/t${l.term}`;
}

/** The caveats of a fault's observed effects: expected to change nothing, overlapping faults, a starved machine. */
export function evidenceCaveats(e: FaultEvidence): string[] {
  if (e.noEffect !== null) return [];
  const out: string[] = [];
  if (e.expectedNoEffect !== null) out.push(`expected no change (${e.expectedNoEffect}): these came from elsewhere`);
  if (e.overlaps.length > 0) out.push(`with ${e.overlaps.join(', ')}`);
  if (e.machine !== null) {
    out.push(
      `machine overloaded meanwhile (harness stalled ${seconds(e.machine.harnessStalledMs)}` +
        `${e.machine.nodeWaitShare === null ? '' : `, nodes waited for a CPU ${(e.machine.nodeWaitShare * 100).toFixed(0)}% of it`})`,
    );
  }
  return out;
}

/** One line per fault for the run's summary. */
export function evidenceLine(e: FaultEvidence): string {
  const head = `${seconds(e.fromMs)}-${seconds(e.toMs)} ${e.label}: ${e.what}`;
  if (e.noEffect !== null) return `${head}: ${e.noEffect}`;
  const caveats = evidenceCaveats(e);
  return `${head}: ${e.effects.join('; ')}${caveats.length > 0 ? ` [${caveats.join('; ')}]` : ''}`;
}

function linkEffectText(l: LinkEffect): string {
  const parts = [
    l.dropped > 0 ? `${l.dropped} dropped` : '',
    l.delayed > 0 ? `${l.delayed} delayed` : '',
    l.duplicated > 0 ? `${l.duplicated} duplicated` : '',
    l.held > 0 ? `${l.held} held` : '',
    l.replayed > 0 ? `${l.replayed} replayed` : '',
    l.heldAcrossTerms > 0 ? `${l.heldAcrossTerms} delivered in a later term` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? '—' : parts.join(', ');
}

/** The report's "What each fault did" table. */
export function evidenceTable(evidence: readonly FaultEvidence[]): string {
  if (evidence.length === 0) return '<p class="muted">No faults injected.</p>';
  const head =
    '<tr><th>from – to</th><th>fault</th><th>leader before → after</th><th>elections (leaderless)</th><th>unreachable</th>' +
    '<th>datagrams</th><th>processes</th><th>longest without ok</th><th>info ops</th><th>effect</th></tr>';
  const rows = evidence
    .map((e) => {
      const elections =
        e.elections.length === 0
          ? '0'
          : e.elections.map((x) => `t${x.term} ${escapeHtml(x.leader)} (${seconds(x.leaderlessMs)})`).join('<br>');
      const links =
        e.datagrams === null
          ? '<span class="muted">not counted</span>'
          : `${escapeHtml(linkEffectText(e.datagrams))}${
              Object.keys(e.datagrams.byLink).length > 0
                ? `<details><summary>by link</summary>${Object.entries(e.datagrams.byLink)
                    .map(([k, l]) => `${escapeHtml(k.replace('>', '→'))}: ${escapeHtml(linkEffectText(l))}`)
                    .join('<br>')}</details>`
                : ''
            }`;
      const procs = [
        ...e.processes.killed.map((p) => `killed ${p.node} (pid ${p.pid ?? '?'})`),
        ...e.processes.stopped.map((p) => `stopped ${p.node} (pid ${p.pid ?? '?'}, state ${p.state ?? '?'})`),
        ...e.processes.restarted.map((p) => `restarted ${p.node} (pid ${p.pid ?? '?'})`),
      ];
      const caveats = evidenceCaveats(e).filter((c) => !c.startsWith('with '));
      const effect =
        e.noEffect !== null
          ? `<strong>${escapeHtml(e.noEffect)}</strong>`
          : `${escapeHtml(e.effects.join('; '))}${caveats.length > 0 ? `<br><span class="muted">${escapeHtml(caveats.join('; '))}</span>` : ''}`;
      return (
        `<tr class="${e.noEffect !== null ? 'no-effect' : ''}"><td>${seconds(e.fromMs)} – ${seconds(e.toMs)}</td>` +
        `<td><span class="fault-sw fault-${escapeHtml(e.kind)}" data-kind="${escapeHtml(e.kind)}"></span>${escapeHtml(e.label)}: ${escapeHtml(e.what)}` +
        `${e.overlaps.length > 0 ? `<br><span class="muted">with ${escapeHtml(e.overlaps.join(', '))}</span>` : ''}</td>` +
        `<td>${escapeHtml(leaderText(e.leaderBefore))} → ${escapeHtml(leaderText(e.leaderAfter))}${e.hitLeader === true ? ' <span class="hit">hit</span>' : ''}</td>` +
        `<td>${elections}</td><td>${escapeHtml([...new Set([...e.unreachable, ...e.cutOff])].join(', ') || '—')}</td><td>${links}</td>` +
        `<td>${escapeHtml(procs.join(', ') || '—')}</td><td>${seconds(e.longestNoOkMs)}</td><td>${e.infoCaused}</td><td>${effect}</td></tr>`
      );
    })
    .join('');
  return `<table class="grid evidence">${head}${rows}</table>`;
}

/** The progress line of the report and the summary. */
export function progressText(p: ProgressAvailability): string {
  return (
    `progress ${(p.shareWithProgress * 100).toFixed(1)}% of the time (a stall: no ok op for over ${seconds(p.stallMs)}), ` +
    `longest gap ${seconds(p.longestGapMs)} at ${seconds(p.longestGapAtMs)}`
  );
}
