/**
 * etcd's v3 JSON gateway (grpc-gateway over HTTP/1.1: POST /v3/kv/range,
 * /v3/kv/put, /v3/kv/txn, /v3/maintenance/status), called with Node's own
 * fetch: no gRPC stack and no new dependency (the `etcd3` package would
 * bring one). Keys and values travel base64-encoded; int64 fields come back
 * as decimal strings.
 */

export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export function unb64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

/** How a gateway call ended: an answer (any HTTP status), or no answer, with whether the request can have reached etcd. */
export type GatewayResult =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Record<string, unknown> }
  | { readonly kind: 'timeout'; readonly error: string }
  /** The connection was refused or could not be made: nothing was sent, the op certainly did not happen. */
  | { readonly kind: 'unreached'; readonly error: string }
  /** The connection broke after the request may have been sent. */
  | { readonly kind: 'broken'; readonly error: string };

const unreachedCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function errorCode(err: unknown): string | null {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** POSTs one gateway call to `baseUrl` (http://host:port) with a deadline. */
export async function gatewayCall(baseUrl: string, path: string, body: unknown, timeoutMs: number): Promise<GatewayResult> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))), // an integer: a fractional delay is ERR_OUT_OF_RANGE
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', error: `timeout after ${timeoutMs} ms` };
    const code = errorCode(err);
    if (code !== null && unreachedCodes.has(code)) return { kind: 'unreached', error: code };
    return { kind: 'broken', error: code ?? (err as Error).message };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { kind: 'timeout', error: `timeout after ${timeoutMs} ms (reading the answer)` };
    return { kind: 'broken', error: errorCode(err) ?? (err as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  return {
    kind: 'answer',
    status: response.status,
    body: typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {},
  };
}

/** The error message of a non-200 answer (grpc-gateway: {error, message, code}). */
export function answerError(body: Record<string, unknown>, status: number): string {
  const message = body['error'] ?? body['message'];
  return `HTTP ${status}: ${typeof message === 'string' ? message : JSON.stringify(body).slice(0, 200)}`;
}
