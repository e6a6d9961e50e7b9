import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs, startServer, type RunningServer } from '../../harness/serve.js';

const root = mkdtempSync(join(tmpdir(), 'rift-serve-'));
const store = join(root, 'histories');
let srv: RunningServer;

/** A raw GET: the path goes on the wire exactly as given (no URL normalisation). */
function get(path: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(srv.url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

const HISTORY =
  [
    { index: 0, process: 0, type: 'invoke', f: 'write', value: 1, time: 0 },
    { index: 1, process: 0, type: 'ok', f: 'write', value: 1, time: 1e6 },
    { index: 2, process: 1, type: 'invoke', f: 'read', value: null, time: 2e6 },
    { index: 3, process: 1, type: 'ok', f: 'read', value: 1, time: 3e6 },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n') + '\n';

function run(rel: string, files: Record<string, string>, mtime?: Date): void {
  const dir = join(store, rel);
  mkdirSync(dir, { recursive: true });
  for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), t);
  if (mtime !== undefined) utimesSync(dir, mtime, mtime);
}

beforeAll(async () => {
  run('reg/20250101T000000', {
    'history.jsonl': HISTORY,
    'test.json': JSON.stringify({ name: 'reg-old', startTime: '2025-01-01T00:00:00Z', options: { nemesis: 'partition' } }),
    'results.json': JSON.stringify({ check: { valid: true, model: 'cas-register', keys: {}, failures: [], clientOpCount: 2 } }),
  });
  run('reg/20250301T000000', {
    'history.jsonl': HISTORY,
    'test.json': JSON.stringify({ name: 'reg-new', startTime: '2025-03-01T00:00:00Z', options: { nemesis: ['kill', 'pause'] } }),
    'results.json': JSON.stringify({ valid: 'unknown' }),
    'node.log': 'hello <b>log</b>\n',
  });
  run('broken-run', { 'history.jsonl': HISTORY, 'test.json': '{not json' }, new Date('2024-06-01T00:00:00Z'));
  symlinkSync(join(store, 'reg/20250301T000000'), join(store, 'latest'));
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret.txt'), 'TOP SECRET\n');
  writeFileSync(join(root, 'secret.txt'), 'TOP SECRET\n');
  symlinkSync(join(root, 'outside'), join(store, 'leak'));
  srv = await startServer({ store, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('serve', () => {
  it('lists runs newest first with verdict, nemesis and op count, "?" for what is missing', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/html/);
    const rows = [
      ...r.body.matchAll(
        /<tr class="(\w+)"><td><a href="([^"]+)">([^<]*)<\/a><\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td class="v">([^<]*)<\/td><td class="num">([^<]*)<\/td>/g,
      ),
    ].map((m) => m.slice(1));
    expect(rows).toEqual([
      ['unknown', '/files/reg/20250301T000000/', 'reg-new', '2025-03-01T00:00:00Z', 'kill,pause', 'unknown', '?'],
      ['valid', '/files/reg/20250101T000000/', 'reg-old', '2025-01-01T00:00:00Z', 'partition', 'valid', '2'],
      ['unchecked', '/files/broken-run/', '?', '2024-06-01T00:00:00.000Z', '?', '?', '?'],
    ]);
  });

  it('serves text files as text/plain and lists directories', async () => {
    const log = await get('/files/reg/20250301T000000/node.log');
    expect(log.status).toBe(200);
    expect(log.type).toBe('text/plain; charset=utf-8');
    expect(log.body).toBe('hello <b>log</b>\n');
    const dir = await get('/files/reg/20250301T000000/');
    expect(dir.status).toBe(200);
    expect(dir.body).toContain('<a href="history.jsonl">history.jsonl</a>');
    expect(dir.body).toContain('<a href="report.html">report.html</a> <span class="muted">(generated on demand)</span>');
    expect((await get('/files/reg')).status).toBe(301);
    expect((await get('/files/nope.txt')).status).toBe(404);
    expect((await get('/elsewhere')).status).toBe(404);
  });

  it('generates a missing report on demand', async () => {
    expect(existsSync(join(store, 'broken-run', 'report.html'))).toBe(false);
    const r = await get('/files/broken-run/report.html');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/html/);
    expect(r.body).toContain('class="verdict valid"');
    expect(existsSync(join(store, 'broken-run', 'report.html'))).toBe(true);
  });

  it('never serves a file outside the store', async () => {
    for (const p of [
      '/files/../secret.txt',
      '/files/../../secret.txt',
      '/files/%2e%2e/secret.txt',
      '/files/reg/..%2f..%2fsecret.txt',
      '/files/..%5csecret.txt',
      '/files/leak/secret.txt',
      '/files/%2e%2e%2foutside/secret.txt',
      '/files/reg/%00',
      '/files/%E0%A4%A',
    ]) {
      const r = await get(p);
      expect(r.status, p).toBe(403);
      expect(r.body, p).not.toContain('TOP SECRET');
    }
  });

  it('parses its arguments', () => {
    expect(parseServeArgs([])).toEqual({ store: 'histories', port: 8080, host: '127.0.0.1' });
    expect(parseServeArgs(['--port', '0', '--store', '/x', '--host', '::1'])).toEqual({ store: '/x', port: 0, host: '::1' });
    expect(() => parseServeArgs(['--port', 'abc'])).toThrow(/--port/);
    expect(() => parseServeArgs(['--bogus'])).toThrow(/unknown argument/);
  });
});
