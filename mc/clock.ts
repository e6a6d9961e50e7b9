/**
 * The clocks of `--time ticks`: real time in discrete steps, and per node a
 * clock whose consecutive ticks are between Q and R steps apart (Q =
 * `--tick-steps`, R the largest integer below clockDriftBound * Q).
 *
 * What the lease assumes (thesis §6.4.1; node/raft/raft.ts leaseValid,
 * node/host.ts raftConfigFor): a leader serves reads for leaseTicks of its
 * own clock after a heartbeat round that a quorum acknowledged, and a
 * follower that heard that round grants no vote for electionTimeoutTicksMin
 * ticks of its clock; leaseTicks = floor((E - 1) / clockDriftBound) (node/config-types.ts
 * safeLeaseTicks; E / clockDriftBound, the thesis's figure, was found one tick too long here) is
 * safe as long as no clock runs more than clockDriftBound times faster than
 * another over any interval. That is a bound on relative clock RATES, not
 * on how far clocks are apart (an offset): two clocks one tick apart can
 * still let one node tick twice while another does not tick at all.
 *
 * What this model guarantees: every path is a run of clocks within that
 * bound. Place the k-th event of a path at real time s + k * eps, where s
 * is the number of real steps (`advance` events) before it and eps is
 * below delta / (path length), for a delta > 0 of our choice. A node's
 * consecutive ticks lie d steps apart with Q <= d <= R (a node must tick
 * before its phase passes R and may not tick before it reaches Q), so
 * their real distance is d plus less than (path length) * eps < delta in
 * either direction: every tick period lies in (Q - delta, R + delta), and
 * any two rates differ by a factor of at most (R + delta) / (Q - delta),
 * below the drift bound for delta small enough because R <
 * clockDriftBound * Q strictly. Messages may take any time (the network
 * delivers any message in flight at any later
 * moment). A paused process's clock keeps running, every Q steps, a tick
 * already due when it stopped counted at once (its ticks become the
 * backlog its wake-up reports, `resume`); a down node has no clock, and a
 * restarted one starts a fresh tick period. So a violation found here
 * happens in a cluster whose clocks obey the assumption, and is the core's
 * (or its configuration's), not the model's. The converse does not hold:
 * only tick periods that are whole numbers of steps are explored, and
 * only to `--max-time`.
 *
 * Q = 1 (the default) gives R = 1: every running node ticks exactly once a
 * step, in any order within the step; rates equal up to the order (phase),
 * which already needs a drift bound above 1 to be realisable (the order
 * may change from one step to the next). Larger Q lets rates differ (Q = 6,
 * drift 1.2: periods of 6 or 7 steps), at the cost of deeper paths.
 */

/** The longest tick period, in real steps, for clocks `tickSteps` steps per tick at their fastest. */
export function slowestTickSteps(tickSteps: number, clockDriftBound: number): number {
  const limit = clockDriftBound * tickSteps;
  const nearest = Math.round(limit);
  // Strictly below the bound: at exactly drift * Q the realisation of a path would need a rate a hair beyond it.
  const below = Math.abs(limit - nearest) < 1e-9 ? nearest - 1 : Math.floor(limit);
  if (below < tickSteps) throw new Error(`mc: a drift bound of ${clockDriftBound} leaves no tick period of ${tickSteps} steps or more`);
  return below;
}
