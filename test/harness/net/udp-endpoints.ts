/**
 * Real UDP endpoints on loopback for the relay's tests: each records the
 * datagrams it receives; everything made (endpoints, and what `keep` is
 * given, e.g. a relay) is closed after each test.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach } from 'vitest';

export interface UdpEndpoint {
  readonly socket: Socket;
  readonly port: number;
  readonly got: Buffer[];
}

/** Call at a describe's (or the file's) top level: it registers the afterEach that closes what the tests made. */
export function udpEndpoints(): { endpoint(): Promise<UdpEndpoint>; keep<T extends { close(): void }>(x: T): T } {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });
  const keep = <T extends { close(): void }>(x: T): T => {
    open.push(x);
    return x;
  };
  return {
    keep,
    async endpoint(): Promise<UdpEndpoint> {
      const socket = keep(createSocket('udp4'));
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      const got: Buffer[] = [];
      socket.on('message', (m) => got.push(m));
      return { socket, port: socket.address().port, got };
    },
  };
}
