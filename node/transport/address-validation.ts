/**
 * Anti-amplification for client replies, after QUIC (RFC 9000 §8.1).
 *
 * UDP source addresses can be forged, and a node's answers can be far larger
 * than the requests (a `get` of an 8 KiB value: a 170-byte request, an
 * 8,400-byte answer). Sent to a forged source, that is a reflection attack.
 * So a node serves a client request only from an address that has proved it
 * receives what is sent to it; to any other address it sends at most
 * AMPLIFICATION_FACTOR times the bytes it received from it.
 *
 * - An address proves itself by echoing a token: a `retry` answer carries
 *   HMAC(tokenKey, time bucket, address), which only someone receiving at
 *   that address can learn. A token is valid in its bucket and the next
 *   (TOKEN_BUCKET_MS each), and the key is this node's own (random per
 *   process), so tokens cannot be made without receiving one.
 * - A proven address is remembered in a bounded table (LRU, at most
 *   `maxAddresses`) for VALIDATED_TTL_MS after its last request, so a client
 *   pays the extra round trip once per node, not per request.
 * - A request from an address not yet proven, without a valid token, is not
 *   served: it is answered with a `retry`, if that answer is within
 *   AMPLIFICATION_FACTOR times the request's bytes (it is, for any request a
 *   client library makes), and otherwise dropped.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const AMPLIFICATION_FACTOR = 3;
export const TOKEN_BUCKET_MS = 60_000;
export const VALIDATED_TTL_MS = 300_000;
export const DEFAULT_MAX_ADDRESSES = 65_536;
const TOKEN_BYTES = 16;
/** Bound on the tokens an AddressValidator keeps computed (AddressValidator.tokens). */
const MAX_CACHED_TOKENS = 1024;

export interface AddressValidatorOptions {
  /** This node's token key (random per process; the simulator derives one per node from its seed). */
  readonly tokenKey: Buffer;
  readonly maxAddresses?: number;
}

export class AddressValidator {
  /** Address → validated until (ms), least recently used first. */
  private readonly validated = new Map<string, number>();
  private readonly tokenKey: Buffer;
  readonly maxAddresses: number;
  /**
   * Tokens already computed, by `${bucket}|${address}`: a token is a function of the two (and the key), and the same
   * few addresses ask again and again within a bucket (a retry per unvalidated request, each checked against two
   * buckets). An HMAC object per token showed in the simulator's profile. Bounded: emptied when full.
   */
  private readonly tokens = new Map<string, { readonly mac: Buffer; readonly text: string }>();

  constructor(opts: AddressValidatorOptions) {
    this.tokenKey = opts.tokenKey;
    this.maxAddresses = opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  }

  get size(): number {
    return this.validated.size;
  }

  /** Whether replies of any size may go to `address` now. */
  isValidated(address: string, nowMs: number): boolean {
    const until = this.validated.get(address);
    return until !== undefined && until > nowMs;
  }

  /**
   * A request arrived from `address` with `token` (or none): returns whether
   * the address is (now) validated, refreshing its entry if so.
   */
  admit(address: string, token: string | undefined, nowMs: number): boolean {
    if (!this.isValidated(address, nowMs)) {
      if (token === undefined || !this.tokenValid(address, token, nowMs)) return false;
    }
    this.validated.delete(address);
    this.validated.set(address, nowMs + VALIDATED_TTL_MS);
    while (this.validated.size > this.maxAddresses) {
      const oldest = this.validated.keys().next();
      if (oldest.done === true) break;
      this.validated.delete(oldest.value);
    }
    return true;
  }

  /** A token for `address`, valid now and through the next bucket. */
  tokenFor(address: string, nowMs: number): string {
    return this.token(address, Math.floor(nowMs / TOKEN_BUCKET_MS)).text;
  }

  /** Whether `replyBytes` may go to an unvalidated address that sent `requestBytes`. */
  static withinLimit(requestBytes: number, replyBytes: number): boolean {
    return replyBytes <= AMPLIFICATION_FACTOR * requestBytes;
  }

  private tokenValid(address: string, token: string, nowMs: number): boolean {
    const given = Buffer.from(token, 'base64url');
    if (given.length !== TOKEN_BYTES) return false;
    const bucket = Math.floor(nowMs / TOKEN_BUCKET_MS);
    return timingSafeEqual(given, this.token(address, bucket).mac) || timingSafeEqual(given, this.token(address, bucket - 1).mac);
  }

  private token(address: string, bucket: number): { readonly mac: Buffer; readonly text: string } {
    const key = `${bucket}|${address}`;
    let token = this.tokens.get(key);
    if (token === undefined) {
      const mac = createHmac('sha256', this.tokenKey).update(`rift retry token v1|${bucket}|${address}`).digest().subarray(0, TOKEN_BYTES);
      token = { mac, text: mac.toString('base64url') };
      if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.clear();
      this.tokens.set(key, token);
    }
    return token;
  }
}
