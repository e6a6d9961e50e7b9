// `npm run serve`: a results browser over the store (histories/), like
// `lein run serve`. The home page lists the runs newest first with verdict
// colours (blue valid, orange unknown, pink invalid); each run links to its
// report.html (generated on demand) and its raw files. Text files are served
// as text/plain. Only paths inside the store are ever served.
//
//   node dist/harness/serve.js [--port 8080] [--host 127.0.0.1] [--store histories]
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { escapeHtml } from '../report/html.js';
import { verdictClass } from '../report/render.js';
import { HISTORY_FILE, REPORT_FILE } from './results/run-files.js';
import { listRuns, type RunSummary } from './results/runs.js';
import { writeReport } from './results/run-report.js';

export interface ServeOptions {
  store: string;
  port: number;
  host: string;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const TEXT_TYPES: Readonly<Record<string, string>> = {
  '.jsonl': 'text/plain; charset=utf-8',
  '.json': 'text/plain; charset=utf-8',
  '.edn': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.tsv': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.out': 'text/plain; charset=utf-8',
  '.err': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const PAGE_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:20px 28px;color:#1d2530}
table{border-collapse:collapse}th,td{border:1px solid #dde2e8;padding:4px 10px;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.valid td.v{background:#6db6fe}tr.unknown td.v{background:#ffaa26}tr.invalid td.v{background:#feb5da}
tr.unchecked td.v{background:#e3e6ea}a{color:#1d5c9c}.muted{color:#6b7684}code{font-size:12.5px}`;

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(head ? undefined : body);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PAGE_CSS}</style></head><body>${body}</body></html>`;
}

/** `/files/a/b` → URL for a store-relative path, each segment encoded. */
function filesUrl(rel: string): string {
  return (
    '/files/' +
    rel
      .split('/')
      .filter((s) => s !== '')
      .map(encodeURIComponent)
      .join('/')
  );
}

function verdictLabel(v: RunSummary['verdict']): string {
  return v === null ? '?' : v === 'unknown' ? 'unknown' : v ? 'valid' : 'invalid';
}

function indexPage(runs: readonly RunSummary[], store: string): string {
  const rows = runs
    .map((r) => {
      const base = filesUrl(r.rel);
      const report = r.hasHistory || r.hasReport ? `<a href="${base}/${REPORT_FILE}">report</a>` : '<span class="muted">no history</span>';
      return (
        `<tr class="${verdictClass(r.verdict)}"><td><a href="${base}/">${escapeHtml(r.name ?? '?')}</a></td>` +
        `<td>${escapeHtml(r.timeText ?? (r.timeMs > 0 ? new Date(r.timeMs).toISOString() : '?'))}</td>` +
        `<td>${escapeHtml(r.nemesis ?? '?')}</td><td class="v">${verdictLabel(r.verdict)}</td>` +
        `<td class="num">${r.opCount ?? '?'}</td><td>${report} · <a href="${base}/">files</a></td><td><code>${escapeHtml(r.rel)}</code></td></tr>`
      );
    })
    .join('');
  return page(
    'rift runs',
    `<h1>rift runs</h1><p class="muted">${runs.length} run${runs.length === 1 ? '' : 's'} in <code>${escapeHtml(store)}</code>, newest first.</p>` +
      `<table id="runs"><tr><th>test</th><th>time</th><th>nemesis</th><th>verdict</th><th>ops</th><th>links</th><th>directory</th></tr>${rows}</table>`,
  );
}

async function dirPage(dir: string, rel: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const rows: string[] = [];
  if (rel !== '') rows.push(`<tr><td><a href="../">../</a></td><td></td></tr>`);
  const names = new Set(entries.map((e) => e.name));
  if (!names.has(REPORT_FILE) && names.has(HISTORY_FILE)) {
    rows.push(`<tr><td><a href="${REPORT_FILE}">${REPORT_FILE}</a> <span class="muted">(generated on demand)</span></td><td></td></tr>`);
  }
  for (const e of entries) {
    let size = '';
    let isDir = e.isDirectory();
    try {
      const s = await stat(join(dir, e.name));
      isDir = s.isDirectory();
      size = isDir ? '' : String(s.size);
    } catch {
      size = '?';
    }
    const href = encodeURIComponent(e.name) + (isDir ? '/' : '');
    rows.push(`<tr><td><a href="${href}">${escapeHtml(e.name)}${isDir ? '/' : ''}</a></td><td class="num">${size}</td></tr>`);
  }
  return page(
    rel || 'store',
    `<p><a href="/">← all runs</a></p><h1>${escapeHtml(rel === '' ? '/' : rel)}</h1><table><tr><th>name</th><th>bytes</th></tr>${rows.join('')}</table>`,
  );
}

/**
 * Maps a URL path under /files/ to a path inside the store, or null when it
 * would leave it (`..`, encoded separators, NUL, or a symlink pointing out).
 */
export async function resolveInStore(storeReal: string, urlRest: string): Promise<{ abs: string; rel: string } | null> {
  let segments: string[];
  try {
    segments = urlRest.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  const parts = segments.filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))) return null;
  const abs = resolve(storeReal, ...parts);
  if (abs !== storeReal && !abs.startsWith(storeReal + sep)) return null;
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    return { abs, rel: parts.join('/') }; // missing: a 404 (or a report to generate) later
  }
  if (real !== storeReal && !real.startsWith(storeReal + sep)) return null;
  return { abs, rel: parts.join('/') };
}

export function makeHandler(store: string): (req: IncomingMessage, res: ServerResponse) => void {
  const storeAbs = resolve(store);
  let storeReal: string | null = null;
  const generating = new Map<string, Promise<unknown>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
      return;
    }
    storeReal ??= await realpath(storeAbs).catch(() => null);
    if (storeReal === null) {
      send(res, 500, 'text/plain; charset=utf-8', `store ${storeAbs} does not exist\n`, head);
      return;
    }
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath === '/' || rawPath === '') {
      send(res, 200, 'text/html; charset=utf-8', indexPage(await listRuns(storeReal), storeAbs), head);
      return;
    }
    if (rawPath === '/files' || rawPath === '/files/') {
      send(res, 200, 'text/html; charset=utf-8', await dirPage(storeReal, ''), head);
      return;
    }
    if (!rawPath.startsWith('/files/')) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    const target = await resolveInStore(storeReal, rawPath.slice('/files/'.length));
    if (target === null) {
      send(res, 403, 'text/plain; charset=utf-8', 'forbidden: outside the store\n', head);
      return;
    }
    let st = await stat(target.abs).catch(() => null);
    if (st === null && target.rel.endsWith('/' + REPORT_FILE)) {
      // Generate a missing report on demand (once, even under concurrent requests).
      const runDir = target.abs.slice(0, -REPORT_FILE.length - 1);
      if ((await stat(join(runDir, HISTORY_FILE)).catch(() => null)) !== null) {
        let job = generating.get(runDir);
        if (job === undefined) {
          job = writeReport(runDir).finally(() => generating.delete(runDir));
          generating.set(runDir, job);
        }
        try {
          await job;
        } catch (e) {
          send(res, 500, 'text/plain; charset=utf-8', `could not generate the report: ${(e as Error).message}\n`, head);
          return;
        }
        st = await stat(target.abs).catch(() => null);
      }
    }
    if (st === null) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    if (st.isDirectory()) {
      if (!rawPath.endsWith('/')) {
        res.writeHead(301, { location: rawPath + '/' });
        res.end();
        return;
      }
      send(res, 200, 'text/html; charset=utf-8', await dirPage(target.abs, target.rel), head);
      return;
    }
    const type = TEXT_TYPES[extname(target.abs).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': st.size, 'x-content-type-options': 'nosniff' });
    if (head) {
      res.end();
      return;
    }
    const stream = createReadStream(target.abs);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(e as Error).message}\n`, false);
      else res.destroy();
    });
  };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const server = createServer(makeHandler(opts.store));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

const SERVE_USAGE = 'usage: serve [--port 8080] [--host 127.0.0.1] [--store histories]';

export function parseServeArgs(argv: readonly string[]): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string', short: 'b' },
        store: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    const first = ((e as Error).message.split('\n')[0] ?? '').trim();
    const missing = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(first);
    if (missing !== null) throw new Error(`${missing[1]} needs a value`);
    const unknown = /^(?:Unknown option|Unexpected argument) '([^']+)'/.exec(first);
    throw new Error(unknown !== null ? `unknown argument ${unknown[1]} (${SERVE_USAGE})` : `${first} (${SERVE_USAGE})`);
  }
  if (values.help === true) throw new Error(SERVE_USAGE);
  const opts: ServeOptions = { store: values.store ?? 'histories', port: 8080, host: values.host ?? '127.0.0.1' };
  if (values.port !== undefined) {
    const n = Number(values.port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer 0..65535`);
    opts.port = n;
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: ServeOptions;
  try {
    opts = parseServeArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(254);
  }
  const s = await startServer(opts);
  process.stdout.write(`serving ${resolve(opts.store)} at ${s.url}\n`);
  const stop = (): void => {
    void s.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`serve: ${(e as Error).message}\n`);
    process.exit(255);
  });
}
