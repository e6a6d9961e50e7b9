import { describe, expect, it } from 'vitest';
import { answerProblem } from '../../../sim/stepped/answer-rules.js';
import type { SteppedMessage } from '../../../sim/stepped/network.js';

const request: SteppedMessage = {
  type: 'append_entries',
  term: 3,
  from: 'n1',
  to: 'n2',
  prevLogIndex: 4,
  prevLogTerm: 3,
  entries: [{ index: 5, term: 3, type: 'command', data: 'x' }],
  leaderCommit: 4,
  seq: 7,
};
const answer = (fields: Partial<Extract<SteppedMessage, { type: 'append_entries_response' }>>): SteppedMessage => ({
  type: 'append_entries_response',
  term: 3,
  from: 'n2',
  to: 'n1',
  success: true,
  matchIndex: 5,
  conflictTerm: null,
  conflictIndex: 0,
  seq: 7,
  ...fields,
});
const snapshot: SteppedMessage = {
  type: 'install_snapshot',
  term: 3,
  from: 'n1',
  to: 'n2',
  seq: 8,
  snapshot: { index: 5, term: 2, configuration: { voters: ['n1', 'n2', 'n3'], learners: [] } },
  data: '',
};

describe('answerProblem: what an answer may say, the request in hand', () => {
  it('a success vouches up to prevLogIndex + entries, or the commit index; not past both', () => {
    expect(answerProblem(request, answer({}), 4)).toBeNull();
    expect(answerProblem(request, answer({ matchIndex: 9 }), 9)).toBeNull(); // an old request: the committed prefix
    expect(answerProblem(request, answer({ matchIndex: 6 }), 4)).toMatch(
      /answers n1's append_entries \(term 3, seq 7, reaching index 5\) with matchIndex 6, past it and past its commit index 4/,
    );
    expect(answerProblem(request, answer({ matchIndex: 6, success: false }), 4)).toBeNull();
    // Without the commit index (the replay) only the echo is judged.
    expect(answerProblem(request, answer({ matchIndex: 6 }), null)).toBeNull();
  });

  it('an InstallSnapshot answer vouches for the snapshot index', () => {
    expect(answerProblem(snapshot, answer({ seq: 8, matchIndex: 5 }), 5)).toBeNull();
    expect(answerProblem(snapshot, answer({ seq: 8, matchIndex: 7 }), 5)).toMatch(
      /install_snapshot .*reaching index 5\) with matchIndex 7/,
    );
  });

  it('an answer in another term echoes seq 0, never the request seq', () => {
    expect(answerProblem(request, answer({ term: 4, success: false, seq: 0 }), 4)).toBeNull();
    expect(answerProblem(request, answer({ term: 4, success: false }), 4)).toMatch(
      /answers n1's append_entries of term 3 \(seq 7\) in term 4 echoing its seq/,
    );
    expect(answerProblem(request, answer({ term: 4, success: false }), null)).not.toBeNull();
  });

  it("answers to another request or sender, and other messages, are not this request's", () => {
    expect(answerProblem(request, answer({ seq: 6, matchIndex: 99 }), 0)).toBeNull();
    expect(answerProblem(request, answer({ to: 'n3', matchIndex: 99 }), 0)).toBeNull();
    expect(answerProblem(answer({}), answer({ matchIndex: 99 }), 0)).toBeNull();
  });
});
