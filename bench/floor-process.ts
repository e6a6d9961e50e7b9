/**
 * One process of the latency floor (bench/floor.ts): a leader or a follower
 * that does only what a committed write physically needs, so the bench can
 * say how close rift is to the limit of this machine. Forked by floor.ts
 * with `role dir keyHex`; talks to it over the IPC channel:
 *
 *   child → parent  { kind: 'ready', port }          bound, log file open
 *   parent → leader { kind: 'peers', ports }         the followers' ports
 *   parent → child  { kind: 'cpu' }                  → { kind: 'cpu', userUs, systemUs, fsyncs, logBytes, badMacs }
 *   parent → child  { kind: 'settle', writes }       → the same, once `writes` records are durable here
 *   parent → child  { kind: 'stop' }                 close and exit
 *
 * Datagrams (every one authenticated with HMAC-SHA256 over the bytes before
 * its 32-byte tag, as rift authenticates every datagram; a bad tag is
 * dropped and counted):
 *
 *   client → leader     [1][u32 seq][payload][tag]
 *   leader → follower   [2][u32 seq][payload][tag]
 *   follower → leader   [3][u32 seq][tag]          after its pwrite + fdatasync
 *   leader → client     [4][u32 seq][tag]          once a majority has it durable
 *
 * The follower writes the entry as a framed record ([u32 length][u32 CRC-32]
 * [seq + payload]) at the end of its file and fdatasyncs it before it
 * answers, on its event loop, as a rift follower does. The leader sends to
 * every follower first and then writes its own copy with the fdatasync on
 * the thread pool (thesis §10.2.1, as rift's leader does), and answers the
 * client once its own copy and enough acknowledgements make a majority of
 * the cluster (or enough followers alone do).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import { closeSync, fdatasync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32Update } from '../node/storage/crc32.js';

export const FLOOR_TAG_BYTES = 32;
export const FLOOR_HEADER_BYTES = 5;
/** Log record framing: [u32 length][u32 CRC-32]. */
export const FLOOR_FRAME_HEADER_BYTES = 8;
export const FLOOR_KIND = { request: 1, append: 2, ack: 3, reply: 4 } as const;

export type FloorToChild = { kind: 'peers'; ports: number[] } | { kind: 'cpu' } | { kind: 'settle'; writes: number } | { kind: 'stop' };
export type FloorFromChild =
  | { kind: 'ready'; port: number }
  | { kind: 'peers-ok' }
  | { kind: 'cpu'; userUs: number; systemUs: number; fsyncs: number; logBytes: number; badMacs: number };

/** Datagram = header + body + HMAC-SHA256(key, header + body). */
export function sealFloor(key: Buffer, kind: number, seq: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FLOOR_HEADER_BYTES + body.length + FLOOR_TAG_BYTES);
  out[0] = kind;
  out.writeUInt32LE(seq, 1);
  out.set(body, FLOOR_HEADER_BYTES);
  const end = FLOOR_HEADER_BYTES + body.length;
  createHmac('sha256', key).update(out.subarray(0, end)).digest().copy(out, end);
  return out;
}

/** The datagram's bytes before the tag, or null when it is too short or its tag is wrong. */
export function openFloor(key: Buffer, datagram: Buffer): Buffer | null {
  if (datagram.length < FLOOR_HEADER_BYTES + FLOOR_TAG_BYTES) return null;
  const end = datagram.length - FLOOR_TAG_BYTES;
  const expected = createHmac('sha256', key).update(datagram.subarray(0, end)).digest();
  return timingSafeEqual(expected, datagram.subarray(end)) ? datagram.subarray(0, end) : null;
}

/** The role's durable copy: frames appended at the end, each one fdatasynced. */
class FloorLog {
  readonly fd: number;
  bytes = 0;
  fsyncs = 0;
  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }
  /** Appends a frame holding `record`; returns nothing until it is written (not yet durable). */
  append(record: Uint8Array): void {
    const frame = Buffer.allocUnsafe(FLOOR_FRAME_HEADER_BYTES + record.length);
    frame.writeUInt32LE(record.length, 0);
    frame.writeUInt32LE(crc32Update(0, record), 4);
    frame.set(record, FLOOR_FRAME_HEADER_BYTES);
    let done = 0;
    while (done < frame.length) done += writeSync(this.fd, frame, done, frame.length - done, this.bytes + done);
    this.bytes += frame.length;
  }
}

function startChild(role: string, dir: string, key: Buffer): void {
  const log = new FloorLog(join(dir, `${role}-${process.pid}.log`));
  const socket = dgram.createSocket('udp4');
  let badMacs = 0;
  // A majority answers a write, so the last one may still be on its way to disk here when the client is done.
  let settleAt: number | null = null;
  const counters = (): FloorFromChild => {
    const cpu = process.cpuUsage();
    return { kind: 'cpu', userUs: cpu.user, systemUs: cpu.system, fsyncs: log.fsyncs, logBytes: log.bytes, badMacs };
  };
  const synced = (): void => {
    log.fsyncs++;
    if (settleAt !== null && log.fsyncs >= settleAt) {
      settleAt = null;
      process.send?.(counters());
    }
  };
  socket.on('error', (e) => process.stderr.write(`floor ${role}: socket error ${e.message}\n`));
  const send = (datagram: Buffer, port: number): void => socket.send(datagram, port, '127.0.0.1');

  let followerPorts: number[] = [];
  // Leader state: one write in flight at a time (one closed-loop client).
  let current = -1;
  let acks = 0;
  let ownDurable = false;
  let answered = false;
  let clientPort = 0;
  const majority = (): number => Math.floor((followerPorts.length + 1) / 2) + 1;
  const maybeAnswer = (): void => {
    if (answered || acks + (ownDurable ? 1 : 0) < majority()) return;
    answered = true;
    send(sealFloor(key, FLOOR_KIND.reply, current, new Uint8Array(0)), clientPort);
  };

  socket.on('message', (datagram, from) => {
    const plain = openFloor(key, datagram);
    if (plain === null) {
      badMacs++;
      return;
    }
    const kind = plain[0];
    const seq = plain.readUInt32LE(1);
    if (role === 'follower') {
      if (kind !== FLOOR_KIND.append) return;
      log.append(plain.subarray(1));
      fdatasyncSync(log.fd);
      synced();
      send(sealFloor(key, FLOOR_KIND.ack, seq, new Uint8Array(0)), from.port);
      return;
    }
    if (kind === FLOOR_KIND.request) {
      current = seq;
      acks = 0;
      ownDurable = false;
      answered = false;
      clientPort = from.port;
      const body = plain.subarray(FLOOR_HEADER_BYTES);
      for (const port of followerPorts) send(sealFloor(key, FLOOR_KIND.append, seq, body), port);
      log.append(plain.subarray(1));
      fdatasync(log.fd, (error) => {
        if (error !== null) throw error;
        synced();
        if (seq !== current) return;
        ownDurable = true;
        maybeAnswer();
      });
    } else if (kind === FLOOR_KIND.ack && seq === current) {
      acks++;
      maybeAnswer();
    }
  });

  process.on('message', (m: FloorToChild) => {
    switch (m.kind) {
      case 'peers':
        followerPorts = m.ports;
        process.send?.({ kind: 'peers-ok' } satisfies FloorFromChild);
        return;
      case 'cpu':
        process.send?.(counters());
        return;
      case 'settle':
        if (log.fsyncs >= m.writes) process.send?.(counters());
        else settleAt = m.writes;
        return;
      case 'stop':
        socket.close();
        closeSync(log.fd);
        process.disconnect?.();
        return;
    }
  });
  socket.bind(0, '127.0.0.1', () => process.send?.({ kind: 'ready', port: socket.address().port } satisfies FloorFromChild));
}

const [role, dir, keyHex] = process.argv.slice(2);
// Only as a forked child (an IPC channel and a role): floor.ts imports this module for the datagram format.
if (process.send !== undefined && (role === 'leader' || role === 'follower') && dir !== undefined && keyHex !== undefined) {
  startChild(role, dir, Buffer.from(keyHex, 'hex'));
}
