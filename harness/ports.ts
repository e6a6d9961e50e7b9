/**
 * Free UDP port picking. Ports are found by binding to port 0 and letting the
 * kernel choose; all sockets of one call stay bound until every port is known,
 * so one call never returns the same port twice. Another process can still take
 * a port between our close() and the node's bind(): the cluster manager reports
 * that as a node that exited early (EADDRINUSE in its log).
 */
import { createSocket, type Socket } from 'node:dgram';

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

/** `count` distinct UDP ports that were free on `host` a moment ago. */
export async function pickFreeUdpPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw new Error(`pickFreeUdpPorts: bad count ${count}`);
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < count; i++) sockets.push(await bindZero(host));
    return sockets.map((s) => s.address().port);
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
