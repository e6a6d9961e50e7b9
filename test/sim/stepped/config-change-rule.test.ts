import { describe, expect, it } from 'vitest';
import { configChangeProblem, type ConfigAppend } from '../../../sim/stepped/config-change-rule.js';
import type { Entry } from '../../../node/raft/types.js';

const config = (index: number, term: number): Entry => ({ index, term, type: 'config', data: '{"voters":["n1","n2"],"learners":[]}' });
const put = (index: number, term: number): Entry => ({ index, term, type: 'command', data: 'x' });
const base: ConfigAppend = {
  leader: 'n2',
  term: 3,
  appended: [config(6, 3)],
  commitIndexBefore: 5,
  termAtCommit: 3,
  previousConfigIndex: 2,
};

describe('configChangeProblem: a leader changes its configuration only after its term and the last change commit', () => {
  it('an entry of its term committed and the previous change committed: allowed', () => {
    expect(configChangeProblem(base)).toBeNull();
    expect(configChangeProblem({ ...base, appended: [put(6, 3), put(7, 3)] })).toBeNull(); // no configuration entry
  });

  it('before an entry of its term commits (Ongaro 2015)', () => {
    expect(configChangeProblem({ ...base, commitIndexBefore: 4, termAtCommit: 2 })).toMatch(
      /n2, leader of term 3, appended configuration entry 6 with commit index 4 \(term 2\): no entry of its term committed yet/,
    );
  });

  it('while the previous change is uncommitted, or two in one step (§4.1)', () => {
    expect(configChangeProblem({ ...base, previousConfigIndex: 5, commitIndexBefore: 4, termAtCommit: 3 })).toMatch(
      /while configuration entry 5 is uncommitted/,
    );
    expect(configChangeProblem({ ...base, appended: [config(6, 3), config(7, 3)] })).toMatch(
      /entry 7 while configuration entry 6 is uncommitted/,
    );
  });

  it('entries of older terms it appends as a follower would are not its changes', () => {
    expect(configChangeProblem({ ...base, appended: [config(6, 2)], termAtCommit: 2 })).toBeNull();
  });
});
