import * as http from 'node:http';
import { AddressInfo } from 'node:net';

/** A real HTTP server on a free loopback port standing in for randomuser.me; `url` ends in /api/. */
export interface SourceServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startSourceServer(handler: http.RequestListener): Promise<SourceServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
