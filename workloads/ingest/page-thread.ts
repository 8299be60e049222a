/**
 * Ingest's page thread: fetching, JSON parsing, validation and COPY encoding of pages run on a
 * worker thread, so that the main thread stays free to drive PostgreSQL's protocol while the next
 * page is parsed. JSON.parse alone is about 10 µs per user (a 5,000-user page is 5.4 MB); on one
 * thread it and the writes took turns (docs/BENCHMARKS.md, "2026-12-02").
 *
 * The thread is started on first use and kept (a service runs many runs); it keeps the process
 * alive only while a page is asked of it. If it dies, the pages it held fail with its error (the run
 * fails naming it, its landed pages stay landed, a rerun with the seed lands the rest) and the next
 * request starts a new one.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { isQuiet, setQuiet } from '../shared/log';
import { fetchAndPrepare, PageRequest, PortableFetchProps, PreparedPage } from './prepare';

interface Ask { readonly id: number; readonly req: PageRequest; readonly fetch: PortableFetchProps; readonly quiet: boolean }
type Tell = { readonly id: number; readonly page: PreparedPage } | { readonly id: number; readonly error: string };
type Control = { readonly abort: number };

const MARK = 'rtds-ingest-page-thread';

/** Worker side: prepares what it is asked, several pages at once (their fetches overlap). */
function serve(port: NonNullable<typeof parentPort>): void {
  const running = new Map<number, AbortController>();
  port.on('message', (m: Ask | Control) => {
    if ('abort' in m) return running.get(m.abort)?.abort(new Error('run stopped'));
    setQuiet(m.quiet);
    const ctl = new AbortController();
    running.set(m.id, ctl);
    fetchAndPrepare(m.req, { ...m.fetch, signal: ctl.signal })
      .then((page) => {
        if (!page.ok) return port.postMessage({ id: m.id, page } satisfies Tell);
        // The COPY text moves to the main thread in an ArrayBuffer of its own (a Buffer's may be
        // Node's shared pool or otherwise untransferable): one memcpy, then no copy in the message.
        const rows = new Uint8Array(page.rows.byteLength);
        rows.set(page.rows);
        port.postMessage({ id: m.id, page: { ...page, rows: rows as Buffer } } satisfies Tell, [rows.buffer]);
      })
      .catch((e: Error) => port.postMessage({ id: m.id, error: e.stack ?? String(e) } satisfies Tell))
      .finally(() => running.delete(m.id));
  });
}

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === MARK) serve(parentPort!);

/**
 * One thread per process. It takes the parsing off the thread that drives PostgreSQL, which is what
 * mattered (0.42 → 0.54–0.56 of COPY on two cores). A second (two pages parsed at once) measured
 * 0.60, within the noise, and cost about 85 MB more at peak (ingest 506-513 MB with two, against its
 * container's 512 MiB).
 */
let thread: PageThread | undefined;

class PageThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (p: PreparedPage) => void; reject: (e: Error) => void }>();
  private next = 0;
  dead = false;

  constructor() {
    // Under ts-node (local runs, tests) the thread compiles this file the same way; built, it is plain JS.
    const ts = __filename.endsWith('.ts');
    const code = ts ? `require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true }); require(${JSON.stringify(__filename)});` : __filename;
    this.worker = new Worker(code, { eval: ts, workerData: { mark: MARK } });
    this.worker.unref();
    this.worker.on('message', (m: Tell) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.settled(m.id);
      if ('error' in m) w.reject(new Error(`ingest page thread: ${m.error}`));
      else w.resolve('rows' in m.page ? { ...m.page, rows: Buffer.from(m.page.rows.buffer, m.page.rows.byteOffset, m.page.rows.byteLength) } : m.page);
    });
    const fail = (e: Error) => {
      this.dead = true;
      for (const [id, w] of this.waiting) {
        this.settled(id);
        w.reject(new Error(`ingest page thread stopped: ${e.message}`));
      }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  prepare(req: PageRequest, fetch: PortableFetchProps, signal?: AbortSignal): Promise<PreparedPage> {
    const id = ++this.next;
    if (this.waiting.size === 0) this.worker.ref();
    const done = new Promise<PreparedPage>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const abort = () => this.worker.postMessage({ abort: id } satisfies Control);
    signal?.addEventListener('abort', abort, { once: true });
    this.worker.postMessage({ id, req, fetch, quiet: isQuiet() } satisfies Ask);
    if (signal?.aborted) abort();
    return done.finally(() => signal?.removeEventListener('abort', abort));
  }

  private settled(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
  }
}

/** Prepares a page on the process's page thread (started on first use, again after it died). */
export function prepareOnThread(req: PageRequest, fetch: PortableFetchProps, signal?: AbortSignal): Promise<PreparedPage> {
  if (!thread || thread.dead) thread = new PageThread();
  return thread.prepare(req, fetch, signal);
}
