/**
 * The address of this machine that a host reaches it on: the source address
 * the kernel picks for a datagram to that host (a connected UDP socket sends
 * nothing; `ip route get HOST` prints the same `src`). The relay binds its
 * link sockets there when the nodes run on other hosts (`--hosts --net relay`).
 */
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';

/** The local IPv4 address that datagrams to `host` (an IPv4 address) leave from. */
export async function localAddressToward(host: string): Promise<string> {
  if (!isIPv4(host)) throw new Error(`the relay carries IPv4 only: ${host} is not an IPv4 address`);
  const socket = createSocket('udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, host, () => resolve(socket.address().address));
    });
  } finally {
    socket.close();
  }
}
