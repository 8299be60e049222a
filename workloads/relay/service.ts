import * as http from 'node:http';
import { close, listen, sendJson, sendText } from '../shared/http';
import { log } from '../shared/log';
import { exposition } from '../shared/metrics';
import { Relay } from './relay';

export interface RelayServiceProps {
  readonly relay: Relay;
  /** @default 8001 */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** /healthz fails when the loop has not completed a turn for this long. @default 30000 */
  readonly staleAfterMs?: number;
}

/** /healthz and /metrics (lag in rows, cursor, records relayed) for the relay. */
export async function startRelayService(props: RelayServiceProps): Promise<{ port: number; close(): Promise<void> }> {
  const stale = props.staleAfterMs ?? 30_000;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    const s = props.relay.status;
    if (url.pathname === '/healthz') {
      const healthy = Date.now() - s.lastHealthyAt < stale;
      return sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unhealthy', cursor: s.cursor, maxSeq: s.maxSeq, lagRows: Math.max(0, s.maxSeq - s.cursor), lastError: s.lastError });
    }
    if (url.pathname === '/metrics') {
      const m = await exposition(props.relay.metrics.registry);
      return sendText(res, 200, m.text, m.contentType);
    }
    return sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  });
  const port = await listen(server, props.port ?? 8001, props.host);
  log('info', 'relay', 'health and metrics listening', { port });
  return { port, close: () => close(server) };
}
