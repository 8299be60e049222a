/**
 * A randomuser-compatible source whose pages were rendered before they are asked for, so that
 * the ingest round times ingest's own work (fetch, parse, validate, normalize, write), not the
 * generator sharing its cores. The bytes are the bundled source's for the same query.
 *
 *   POST /render?seed=S&users=N&batch=B   renders the pages a run of N users asks for (replacing earlier ones)
 *   GET  /api/?results=B&seed=S&page=P    serves a rendered page from memory; 404 when it was not rendered
 *
 * Run as its own process (`startPrerenderedSource`), as randomuser.me would be another machine.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { close, listen, sendJson } from '../../workloads/shared/http';
import { generatePage, USER_FIELDS } from '../../workloads/source/generate';

const pageKey = (seed: string, page: number, results: number) => `${seed}\u0000${page}\u0000${results}`;

function serve(port: number): Promise<number> {
  let pages = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://prerendered');
    const q = url.searchParams;
    if (req.method === 'POST' && url.pathname === '/render') {
      const seed = q.get('seed') ?? '';
      const users = Number(q.get('users'));
      const batch = Number(q.get('batch') ?? 5000);
      if (seed === '' || !(users > 0) || !(batch > 0 && batch <= 5000)) return sendJson(res, 400, { error: 'render needs seed, users > 0 and 0 < batch <= 5000' });
      pages = new Map();
      let bytes = 0;
      const now = Date.now();
      for (let page = 1, left = users; left > 0; page++, left -= batch) {
        // Ingest asks every page with results=batch and keeps what the run needs of the last one.
        const body = Buffer.from(JSON.stringify(generatePage({ results: batch, seed, page, nat: [], fields: [...USER_FIELDS], noinfo: false }, now)));
        pages.set(pageKey(seed, page, batch), body);
        bytes += body.length;
      }
      return sendJson(res, 200, { pages: pages.size, bytes });
    }
    if (/^\/api\/?$/.test(url.pathname)) {
      const body = pages.get(pageKey(q.get('seed') ?? '', Number(q.get('page') ?? 1), Number(q.get('results') ?? 1)));
      if (!body) return sendJson(res, 404, { error: `page not rendered: ${url.search}` });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      return res.end(body);
    }
    return sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  });
  process.once('SIGTERM', () => void close(server).then(() => process.exit(0)));
  return listen(server, port, '127.0.0.1');
}

export interface PrerenderedSource {
  /** Base URL of the API, ending in /api/. */
  readonly url: string;
  /** Renders the pages of a run before it is timed. */
  render(seed: string, users: number, batch?: number): Promise<{ pages: number; bytes: number }>;
  stop(): Promise<void>;
}

/** Starts the server as a child process on a free loopback port. */
export async function startPrerenderedSource(): Promise<PrerenderedSource> {
  const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, 'serve'], {
    cwd: path.resolve(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`pre-rendered source exited with code ${code} before listening`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/api/`,
    async render(seed, users, batch = 5000) {
      const res = await fetch(`${base}/render?${new URLSearchParams({ seed, users: String(users), batch: String(batch) })}`, { method: 'POST' });
      const body = (await res.json()) as { pages: number; bytes: number; error?: string };
      if (!res.ok) throw new Error(`pre-rendered source: ${body.error ?? res.status}`);
      return body;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

if (require.main === module && process.argv[2] === 'serve') {
  serve(0).then((port) => process.stdout.write(`listening ${port}\n`), (e: Error) => {
    process.stderr.write(`pre-rendered source: ${e.message}\n`);
    process.exit(1);
  });
}
