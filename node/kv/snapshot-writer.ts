/**
 * The state machine's snapshot text, produced a piece at a time while the
 * state machine goes on applying entries (dissertation §5.1.3: "writing a
 * snapshot can take a significant amount of time, and we do not want this to
 * delay normal operations... use copy-on-write techniques so that new updates
 * can be accepted without impacting the snapshot being written").
 *
 * Why: the whole text was built in one call. A 50-80 MB state took 0.5-1.1 s
 * of a node's event loop (JSON, then the UTF-8 copy, then the checksum),
 * several election timeouts; every node snapshots at about the same index, so
 * the cluster lost its leader 6-8 times in a row at each snapshot (a probe
 * with 40,000 writes of 2 KB: terms 2 to 30, writes stalled up to 4.4 s).
 *
 * How: at the start the writer takes the sorted key list, the header fields
 * and the session table's text (bounded: at most maxSessions sessions). The
 * data's values are read as it goes. The state machine keeps a preimage of
 * every key written or deleted while a writer is open (KvStateMachine
 * beforeWrite): the value it had at the start (a key created since is not in
 * the list, and needs none). So the text is
 * exactly the state at the start, byte for byte what a one-call encode then
 * would have given (test/node/kv/snapshot-writer.test.ts).
 */
import { assert } from '../util/assert.js';

/** The values at the start, for keys the state machine has written since. */
export type Preimages = Map<string, string>;

export class KvSnapshotWriter {
  private nextKey = 0;
  private headDone = false;
  private finished = false;
  private closed = false;

  /**
   * @param head the text before the first pair (`{"format":...,"data":[`)
   * @param keys the keys at the start, sorted
   * @param current the live data (read for keys without a preimage)
   * @param preimages filled by the state machine while this writer is open
   * @param tail the text after the last pair (`],"sessions":[...]}`)
   * @param onClose called once, when the writer finishes or is abandoned (the state machine stops keeping preimages)
   */
  constructor(
    private readonly head: string,
    private readonly keys: readonly string[],
    private readonly current: ReadonlyMap<string, string>,
    private readonly preimages: Preimages,
    private readonly tail: string,
    private readonly onClose: () => void,
  ) {}

  /** Whether the writer was abandoned before its end (the state was replaced, or the node stops). */
  get abandoned(): boolean {
    return this.closed && !this.finished;
  }

  /**
   * The next piece of the text, of about `maxChars` UTF-16 units or more (one
   * pair is never split), or null once the text is complete. Cheap to call
   * with a budget: the host calls it once per event-loop turn.
   */
  next(maxChars: number): string | null {
    assert(!this.closed || this.finished, 'a snapshot writer read after it was abandoned');
    if (this.finished) return null;
    const parts: string[] = [];
    let chars = 0;
    if (!this.headDone) {
      this.headDone = true;
      parts.push(this.head);
      chars += this.head.length;
    }
    while (this.nextKey < this.keys.length && chars < maxChars) {
      const key = this.keys[this.nextKey]!;
      const value = this.preimages.get(key) ?? this.current.get(key);
      assert(value !== undefined, `snapshot writer: key ${JSON.stringify(key)} had no value at the start`);
      const pair = JSON.stringify([key, value]);
      parts.push(this.nextKey === 0 ? pair : `,${pair}`);
      chars += pair.length + 1;
      this.nextKey++;
    }
    if (this.nextKey === this.keys.length) {
      parts.push(this.tail);
      this.finished = true;
      this.close();
    }
    return parts.join('');
  }

  /** Stops: the state machine keeps no more preimages for it. Idempotent. */
  abandon(): void {
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}
