/**
 * A stopped process (SIGSTOP, a long GC pause, a VM migrated): its timers do
 * not fire, it reads no input and its fsync completions are not acted on,
 * but the machine around it carries on. Datagrams that reach it queue in its
 * socket's receive buffer, in arrival order, until the buffer is full; the
 * rest are dropped, as the kernel drops them. When it resumes it finds its
 * timers long overdue and a burst of old input: the host's real catch-up
 * path (NodeHost: catchUpTicks, RaftNode.elapse) decides what the lost time
 * means. A leader that slept through its lease must not serve reads from it
 * (issue 15 defect 2, thesis §6.4.1).
 *
 * The buffer is charged what the kernel charges: the datagram plus the
 * socket buffer's own overhead (the skb "truesize"; about 576 bytes more
 * than the payload for a small datagram, an approximation), against
 * `socketBufferBytes` (Linux's net.core.rmem_default, 212,992 bytes).
 */
import { assert } from '../node/util/assert.js';

/** Approximate per-datagram overhead the kernel charges to a UDP receive buffer (sk_buff truesize minus payload). */
export const socketOverheadBytes = 576;

export interface BufferedDatagram {
  readonly from: string;
  readonly datagram: Buffer;
}

export class PausedProcess {
  readonly buffered: BufferedDatagram[] = [];
  /** Timer firings that fell due while stopped, in order. */
  readonly dueTimers: (() => void)[] = [];
  /** Storage completions (fsync done) the stopped process has not yet seen. */
  readonly storageDone: (() => void)[] = [];
  private bufferedBytes = 0;
  dropped = 0;

  constructor(
    /** When the process resumes (unless the heal or a crash comes first). */
    public untilMs: number,
    private readonly bufferBytes: number,
  ) {
    assert(bufferBytes >= 0, `socket buffer must be non-negative, got ${bufferBytes}`);
  }

  /** A datagram reaches the stopped process: queued, or dropped when the buffer is full. */
  receive(from: string, datagram: Buffer): boolean {
    const charge = datagram.length + socketOverheadBytes;
    if (this.bufferedBytes + charge > this.bufferBytes) {
      this.dropped++;
      return false;
    }
    this.bufferedBytes += charge;
    this.buffered.push({ from, datagram });
    return true;
  }
}
