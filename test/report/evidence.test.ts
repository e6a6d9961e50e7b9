/**
 * The run's own conclusion in report.html (report/render.ts, report/evidence.ts):
 * the page's verdict is the run's, merged over every analysis, not only the
 * checker's; and it draws what each fault did, a fault with no effect called out.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import type { HistoryOp } from '../../checker/types.js';
import type { FaultEvidence } from '../../report/evidence.js';
import { renderReport, type RunConclusion } from '../../report/render.js';

const history: HistoryOp[] = [
  { index: 0, process: 0, type: 'invoke', f: 'write', key: 'a', value: 1, time: 0 },
  { index: 1, process: 0, type: 'ok', f: 'write', key: 'a', value: 1, time: 1e6 },
];

const fault = (over: Partial<FaultEvidence>): FaultEvidence => ({
  kind: 'clock',
  label: 'clock',
  startF: 'clock-bump',
  stopF: 'reset-clock',
  fromMs: 2000,
  toMs: 4000,
  what: 'bump +4096 ms on n3',
  overlaps: [],
  leaderBefore: { id: 'n1', term: 2 },
  leaderAfter: { id: 'n1', term: 2 },
  hitLeader: false,
  elections: [],
  unreachable: [],
  cutOff: [],
  datagrams: { dropped: 0, delayed: 0, duplicated: 0, held: 0, replayed: 0, heldAcrossTerms: 0, byLink: {} },
  processes: { killed: [], restarted: [], stopped: [] },
  longestNoOkMs: 20,
  infoCaused: 0,
  effects: [],
  noEffect: 'no change in behaviour (monotonic time: the node reads the wall clock only for its status report)',
  expectedNoEffect: 'monotonic time: the node reads the wall clock only for its status report',
  machine: null,
  ...over,
});

describe("report.html: the run's conclusion and its evidence", () => {
  it('a run the progress analysis made invalid reads Invalid, though the history is linearizable', () => {
    const run: RunConclusion = {
      verdict: false,
      analyses: [
        { name: 'linearizability', valid: true, conclusion: 'the history is linearizable', findings: [] },
        {
          name: 'progress',
          valid: false,
          conclusion: 'the cluster stopped making progress with no fault in force',
          findings: ['progress: no ok op for 9.00 s'],
        },
      ],
      faults: [
        fault({}),
        fault({
          kind: 'partition',
          label: 'partition',
          startF: 'start-partition',
          stopF: 'stop-partition',
          what: 'leader of leader n1: n1✕{n2,n3}',
          hitLeader: true,
          cutOff: ['n1'],
          elections: [{ term: 3, leader: 'n2', atMs: 420, leaderlessMs: 200 }],
          leaderAfter: { id: 'n2', term: 3 },
          effects: ['leader n1 cut off a quorum', '1 election: n2/t3 after 0.20 s leaderless'],
          noEffect: null,
          expectedNoEffect: null,
          datagrams: {
            dropped: 78,
            delayed: 0,
            duplicated: 0,
            held: 0,
            replayed: 0,
            heldAcrossTerms: 0,
            byLink: { 'n1>n2': { dropped: 40, delayed: 0, duplicated: 0, held: 0, replayed: 0, heldAcrossTerms: 0 } },
          },
        }),
      ],
      progress: {
        workloadMs: 10_000,
        stallMs: 300,
        longestGapMs: 9000,
        longestGapAtMs: 1000,
        shareWithProgress: 0.1,
        stalls: [{ atMs: 1000, ms: 9000 }],
      },
      monitorNotRun: null,
    };
    const html = renderReport({ title: 't', history, check: checkHistory(history, { model: 'cas-register' }), run });
    expect(html).toContain('data-verdict="invalid"');
    expect(html).toContain(
      'Invalid — the cluster stopped making progress with no fault in force (linearizability: the history is linearizable)',
    );
    expect(html).toContain('progress: no ok op for 9.00 s');
    expect(html).toContain('What each fault did');
    expect(html).toContain(
      '<strong>no change in behaviour (monotonic time: the node reads the wall clock only for its status report)</strong>',
    );
    expect(html).toContain('n1/t2 → n2/t3 <span class="hit">hit</span>');
    expect(html).toContain('t3 n2 (0.20 s)');
    expect(html).toContain('n1→n2: 40 dropped');
    expect(html).toContain('longest gap 9.00 s at 1.00 s');
  });

  it("without a run conclusion (a plain check) the page keeps the checker's verdict and draws no evidence", () => {
    const html = renderReport({ title: 't', history, check: checkHistory(history, { model: 'cas-register' }) });
    expect(html).toContain('data-verdict="valid"');
    expect(html).not.toContain('<section id="evidence">');
  });
});
