// npm run cluster:up | cluster:down [-- --keep-data|--purge] | cluster:status [-- --json] | cluster:images -- <image>...
import { clusterDown, clusterStatus, clusterUp, formatStatus, loadImages } from './index';
import { log } from './output';

const USAGE = 'usage: cli.ts up | down [--keep-data] [--purge] | status [--json] | images <image>...';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flags = (known: string[]) => {
    const unknown = rest.filter((a) => !known.includes(a));
    if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')} for ${command} (${USAGE})`);
    return new Set(rest);
  };
  switch (command) {
    case 'up': {
      flags([]);
      const r = await clusterUp();
      process.stdout.write(`kubeconfig: ${r.kubeconfig}\nkubectl:    ${r.kubectl}\n`);
      return 0;
    }
    case 'down': {
      const f = flags(['--keep-data', '--purge']);
      if (f.has('--keep-data') && f.has('--purge')) throw new Error('--keep-data and --purge contradict each other');
      const r = await clusterDown({ keepData: f.has('--keep-data'), purge: f.has('--purge') });
      if (r.left.length > 0) {
        log(`down in ${r.seconds} s, but the host is NOT clean; left:\n  ${r.left.join('\n  ')}`);
        return 1;
      }
      log(`down in ${r.seconds} s; checked: no process, mount, network namespace, link, iptables chain, cgroup or sysctl change is left`);
      return 0;
    }
    case 'status': {
      const f = flags(['--json']);
      const s = await clusterStatus();
      process.stdout.write(f.has('--json') ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      return s.running ? 0 : 3;
    }
    case 'images': {
      if (rest.length === 0) throw new Error('name at least one image: npm run cluster:images -- rtdatastream/debian:bookworm-slim');
      const r = await loadImages(rest);
      log(`images: loaded ${r.loaded.length} (${r.loaded.join(', ') || '-'}), already present ${r.skipped.length}, ${r.seconds} s`);
      return 0;
    }
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    log(`error: ${err.message}`);
    process.exit(1);
  },
);
