// `kubectl port-forward` as a user runs it, for the k8s tier: started, its local port read from
// what kubectl prints, stopped by its pid.
import { spawn } from 'child_process';
import * as net from 'net';
import { Kube } from '../../scripts/deploy/kubectl';

export interface Forward {
  readonly port: number;
  close(): void;
}

/** Forwards `target` (svc/x, pod/x) port `remote` to 127.0.0.1:`local` (0 = a free port kubectl picks). */
export function portForward(kube: Kube, namespace: string, target: string, remote: number, local = 0): Promise<Forward> {
  const args = ['--kubeconfig', kube.kubeconfig, 'port-forward', '-n', namespace, '--address', '127.0.0.1', target, `${local || ''}:${remote}`];
  const child = spawn(kube.kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`kubectl port-forward ${target} did not start in 30 s: ${out}`)); }, 30_000);
    const read = (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), close: () => child.kill() });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kubectl port-forward ${target} exited with ${code}: ${out}`)); });
  });
}

/** Whether nothing listens on 127.0.0.1:port. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false)).once('listening', () => server.close(() => resolve(true)));
    server.listen(port, '127.0.0.1');
  });
}

/** The first port from `from` with `count` free ports in a row (brokers are advertised at consecutive ports). */
export async function freePortRange(from: number, count: number): Promise<number> {
  for (let base = from; base + count <= 65535; base += count) {
    let free = true;
    for (let i = 0; i < count && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports from ${from}`);
}
