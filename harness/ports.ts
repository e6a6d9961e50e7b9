/**
 * Free UDP port picking for the nodes. Node ports are drawn at random BELOW the
 * kernel's ephemeral range: every other socket of a run (the relay's link
 * sockets, clients, status probes) binds to port 0 and so gets an ephemeral
 * port, which then can never be a port a node was promised — not at start and
 * not while a killed node is down waiting for its restart. Each candidate is
 * checked by binding it; all sockets of one call stay bound until every port is
 * known, so one call never returns the same port twice. Another process can
 * still take a port between our close() and the node's bind(): the cluster
 * manager reports that as a node that exited early (EADDRINUSE in its log).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';

const lowestNodePort = 10_000;

/** First port of the kernel's ephemeral range (Linux default 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > lowestNodePort + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function bindPort(host: string, port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // never crash on a late error
      resolve(socket);
    });
  });
}

function bindZero(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // never crash on a late error
      resolve(socket);
    });
  });
}

/** `count` distinct UDP ports below the ephemeral range that were free on `host` a moment ago. */
export async function pickFreeUdpPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw new Error(`pickFreeUdpPorts: bad count ${count}`);
  const high = ephemeralLow() - 1;
  const sockets: Socket[] = [];
  try {
    for (let attempts = 0; sockets.length < count; attempts++) {
      if (attempts > 50 * count + 100) {
        // Crowded below the ephemeral range: fall back to kernel-chosen ports.
        sockets.push(await bindZero(host));
        continue;
      }
      const socket = await bindPort(host, randomInt(lowestNodePort, high + 1));
      if (socket !== null) sockets.push(socket);
    }
    return sockets.map((s) => s.address().port);
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
