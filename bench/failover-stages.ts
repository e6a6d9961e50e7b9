/**
 * What one failover's window is made of, read from the nodes' own logs
 * (node/main.ts writes `<ISO time> <id> role <role> term=<t> ...` on every
 * role change): from the kill to the first node that stops waiting for the
 * dead leader (a pre-candidate or candidate: detection, one election timeout
 * after the last heartbeat it heard), from there to the first leader of a
 * later term (pre-vote and vote rounds, each with a vote persisted), and from
 * there to the client's first successful write (the new leader's first
 * commit and the client finding it).
 *
 * Every time here is wall-clock milliseconds (Date.now() in the bench, the
 * nodes' ISO stamps, both on this machine's clock); the stamps have 1 ms
 * resolution, so each stage is good to about ±1 ms.
 */

export interface FailoverStages {
  /** Kill → the first role change to pre_candidate or candidate after it (null: none logged). */
  readonly detectionMs: number | null;
  /** That first candidacy → the first node to become leader after the kill. */
  readonly electionMs: number | null;
  /** The new leader's election → the client's first successful write. */
  readonly clientMs: number | null;
}

const roleLine = /^(\S+) \S+ role (\w+) term=(\d+)/;

/** The stages of one failover, from the log texts of the nodes (any order), the kill time and the client's success time. */
export function failoverStages(logs: readonly string[], killedAtMs: number, succeededAtMs: number): FailoverStages {
  let candidacy: number | null = null;
  let elected: number | null = null;
  for (const text of logs) {
    for (const line of text.split('\n')) {
      const m = roleLine.exec(line);
      if (m === null) continue;
      const at = Date.parse(m[1]!);
      // Stamps are whole ms: a change in the kill's own ms counts as after it.
      if (!Number.isFinite(at) || at < Math.floor(killedAtMs) || at > succeededAtMs) continue;
      const role = m[2]!;
      if ((role === 'pre_candidate' || role === 'candidate') && (candidacy === null || at < candidacy)) candidacy = at;
      if (role === 'leader' && (elected === null || at < elected)) elected = at;
    }
  }
  return {
    detectionMs: candidacy === null ? null : Math.max(0, candidacy - killedAtMs),
    electionMs: candidacy === null || elected === null ? null : elected - candidacy,
    clientMs: elected === null ? null : Math.max(0, succeededAtMs - elected),
  };
}
