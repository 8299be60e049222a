import * as http from 'node:http';
import { close, listen, sendJson, sendText } from '../shared/http';
import { log } from '../shared/log';
import { exposition, SourceMetrics } from '../shared/metrics';
import { generatePage } from './generate';
import { parsePageQuery } from './query';

export interface SourceServerProps {
  /** Port to listen on; 0 picks a free one. @default 8100 */
  readonly port?: number;
  /** Interface to bind. @default '0.0.0.0' */
  readonly host?: string;
  /** Requests per second accepted before answering 429 (token bucket). @default 50 */
  readonly ratePerSecond?: number;
  /** Burst size of the token bucket. @default ratePerSecond */
  readonly burst?: number;
}

export interface RunningSource {
  readonly port: number;
  /** Base URL of the API, ending in `/api/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Token bucket: refills continuously, answers how long to wait when empty. */
export class RateLimit {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  /** 0 when admitted, else seconds until a token is available. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}

/** The randomuser-compatible HTTP server: `/api/` (also `/api/1.4/`), `/healthz`, `/metrics`. */
export async function startSource(props: SourceServerProps = {}): Promise<RunningSource> {
  const rate = props.ratePerSecond ?? 50;
  if (!(rate > 0)) throw new Error(`ratePerSecond must be > 0, got ${rate}`);
  const limiter = new RateLimit(rate, props.burst ?? rate);
  const metrics = new SourceMetrics();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://source');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/metrics') {
      void exposition(metrics.registry).then((m) => sendText(res, 200, m.text, m.contentType));
      return;
    }
    if (!/^\/api(\/1\.4)?\/?$/.test(url.pathname)) return sendJson(res, 404, { error: `no such path ${url.pathname}; the API is at /api/` });
    if (req.method !== 'GET') return sendJson(res, 405, { error: `method ${req.method} not allowed; use GET` });
    const wait = limiter.take();
    if (wait > 0) {
      metrics.rateLimited.inc();
      return sendJson(res, 429, { error: `rate limit of ${rate} requests per second exceeded` }, { 'retry-after': String(wait) });
    }
    const parsed = parsePageQuery(url.searchParams);
    if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
    metrics.requests.inc();
    metrics.users.inc(parsed.value.results);
    sendJson(res, 200, generatePage(parsed.value));
  });
  const port = await listen(server, props.port ?? 8100, props.host ?? '0.0.0.0');
  const host = props.host && props.host !== '0.0.0.0' ? props.host : '127.0.0.1';
  log('info', 'source', 'listening', { port, ratePerSecond: rate });
  return { port, url: `http://${host}:${port}/api/`, close: () => close(server) };
}
