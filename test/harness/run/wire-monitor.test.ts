/**
 * The wire monitor reached through the NetworkControl interface only (the
 * runner never names the relay class): real relay sockets, real datagrams.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import { DirectNetwork } from '../../../harness/net/direct.js';
import type { MonitorViolation } from '../../../harness/net/monitor.js';
import { UdpRelay } from '../../../harness/net/relay.js';
import type { NetworkControl } from '../../../harness/net/types.js';
import { watchWire, wireMonitorAnalysis } from '../../../harness/run/wire-monitor.js';
import { encodeEnvelope } from '../../../node/transport/codec.js';
import { derivePeerKey } from '../../../node/transport/keys.js';
import { waitFor } from '../wait.js';

const config = {
  peerSecret: 'wire-monitor-test-secret-0123456789',
  cluster: 'rift-wire-monitor-test',
  nodes: ['n1', 'n2', 'n3'].map((id, i) => ({ id, host: '127.0.0.1', port: 9000 + i })),
};
let counter = 0;

function appendEntries(from: string, to: string, term: number): Buffer {
  const body = { type: 'append_entries' as const, term, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 };
  const encoded = encodeEnvelope({ cluster: config.cluster, from, to, body }, derivePeerKey(config.peerSecret, from), {
    senderIncarnation: 1,
    receiverIncarnation: 1,
    counter: ++counter,
    sentAtMs: 1,
  });
  if (!encoded.ok) throw new Error(`test datagram does not encode: ${encoded.detail}`);
  return encoded.datagram;
}

describe('watchWire (monitoring as a capability of the fault layer)', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  test('a fault layer without the capability (direct): no monitor, no probe', () => {
    const net: NetworkControl = new DirectNetwork();
    expect(watchWire(net, config, () => undefined)).toBeNull();
  });

  test('the relay, as a NetworkControl: the monitor is attached, sees two leaders of one term, and its report is an invalid analysis', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      open.push(s);
      sockets.push(s);
    }
    const ids = ['n1', 'n2', 'n3'];
    const relay = await UdpRelay.start({
      nodes: sockets.map((s, i) => ({ id: ids[i]!, host: '127.0.0.1', port: s.address().port })),
      seed: 1,
    });
    open.push(relay);
    const net: NetworkControl = relay;
    const seen: MonitorViolation[] = [];
    const probe = watchWire(net, config, (v) => seen.push(v));
    expect(probe).not.toBeNull();
    expect(wireMonitorAnalysis(probe!()!).valid).toBe(true);
    const send = (from: number, to: number, msg: Buffer): void => {
      const a = relay.linkAddress(ids[from]!, ids[to]!);
      sockets[from]!.send(msg, a.port, a.host);
    };
    send(0, 1, appendEntries('n1', 'n2', 4));
    send(2, 1, appendEntries('n3', 'n2', 4));
    await waitFor(() => seen.length === 1, 5000, 'the monitor reports the second leader of term 4');
    const analysis = wireMonitorAnalysis(probe!()!);
    expect(analysis.valid).toBe(false);
    expect(analysis.findings).toEqual(['monitor: election safety violated: n1 and n3 both led term 4']);
  });
});
