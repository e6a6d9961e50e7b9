/**
 * One UDP socket per node, for peers and clients alike (`node:dgram`, udp4).
 *
 * - The socket is unconnected: a connected UDP socket turns ICMP
 *   port-unreachable into asynchronous ECONNREFUSED 'error' events, and a
 *   peer that is down is normal in Raft, not an error.
 * - An 'error' listener is always attached: an unhandled 'error' event would
 *   crash the process. Errors are logged and counted.
 * - Incoming datagrams are handed to `onDatagram` synchronously (a node
 *   passes them to its NodeEndpoint, which decodes, judges and counts
 *   them), so there is no user-space receive queue to bound: the kernel
 *   receive buffer (raised to `recvBufferSizeBytes`) is the queue, and the
 *   kernel drops when it is full.
 * - Exceptions thrown by `onDatagram` are NOT caught: they are the host's
 *   assertions, and a node whose invariants broke must crash loudly.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { worthLogging } from '../util/worth-logging.js';

export const DEFAULT_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export interface UdpTransportOptions {
  readonly host: string;
  /** 0 picks an ephemeral port; read it back with `address()`. */
  readonly port: number;
  readonly onDatagram: (datagram: Buffer, host: string, port: number) => void;
  readonly log?: (line: string) => void;
  readonly recvBufferSizeBytes?: number;
}

export type SendResult =
  | { readonly ok: true; readonly bytes: number }
  | { readonly ok: false; readonly reason: 'closed' | 'bad_address'; readonly detail: string };

export interface TransportStats {
  readonly sent: number;
  readonly sendErrors: number;
  readonly received: number;
  readonly socketErrors: number;
}

export class UdpTransport {
  private sent = 0;
  private sendErrors = 0;
  private received = 0;
  private socketErrors = 0;
  private closed = false;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly opts: UdpTransportOptions,
  ) {
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    socket.on('error', (err) => {
      this.socketErrors++;
      if (worthLogging(this.socketErrors)) this.log(`udp: socket error #${this.socketErrors}: ${err.message}`);
    });
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
  }

  /** Binds the socket; rejects with the bind error (EADDRINUSE, EADDRNOTAVAIL, ...). */
  static open(opts: UdpTransportOptions): Promise<UdpTransport> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4' });
      const onBindError = (err: Error): void => {
        socket.close();
        reject(new Error(`cannot bind UDP ${opts.host}:${opts.port}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: opts.host, port: opts.port, exclusive: true }, () => {
        socket.off('error', onBindError);
        const t = new UdpTransport(socket, opts);
        const wanted = opts.recvBufferSizeBytes ?? DEFAULT_RECV_BUFFER_BYTES;
        try {
          // The kernel doubles the request and silently caps it at 2 x rmem_max.
          socket.setRecvBufferSize(wanted);
        } catch (e) {
          t.log(`udp: could not set the receive buffer to ${wanted} bytes: ${e instanceof Error ? e.message : String(e)}`);
        }
        resolve(t);
      });
    });
  }

  address(): { host: string; port: number } {
    const a: AddressInfo = this.socket.address();
    return { host: a.address, port: a.port };
  }

  /** Sends one datagram. Delivery is never confirmed (UDP); asynchronous send errors are counted. */
  send(host: string, port: number, datagram: Buffer): SendResult {
    if (this.closed) return { ok: false, reason: 'closed', detail: 'transport is closed' };
    const onError = (err: Error): void => {
      this.sendErrors++;
      if (worthLogging(this.sendErrors)) this.log(`udp: send error #${this.sendErrors} to ${host}:${port}: ${err.message}`);
    };
    try {
      this.socket.send(datagram, port, host, (err) => {
        if (err) onError(err);
      });
    } catch (e) {
      // Synchronous rejections (a port outside 1..65535): counted, never thrown at the caller.
      const err = e instanceof Error ? e : new Error(String(e));
      onError(err);
      return { ok: false, reason: 'bad_address', detail: err.message };
    }
    this.sent++;
    return { ok: true, bytes: datagram.length };
  }

  stats(): TransportStats {
    return { sent: this.sent, sendErrors: this.sendErrors, received: this.received, socketErrors: this.socketErrors };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    this.received++;
    this.opts.onDatagram(msg, rinfo.address, rinfo.port);
  }
}
