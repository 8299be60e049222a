// The host as the cluster could change it, read with plain tools, independent of scripts/cluster:
// the k8s tier compares it before `up` and after `down --cluster`.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { statePaths } from '../../scripts/cluster';

function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Chains, links, network namespaces, the kubelet's sysctls, mounts, cluster processes, kubepods cgroups. */
export function hostSnapshot(): Record<string, string[]> {
  const chains: string[] = [];
  for (const cmd of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      for (const line of sh(cmd, ['-w', '5', '-t', table, '-S']).split('\n')) {
        if (/^-N (KUBE-|CNI-|RTDS-)/.test(line)) chains.push(`${cmd}/${table}/${line.slice(3)}`);
        // Rules anyone added that send traffic to such chains, e.g. from FORWARD.
        if (/^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-|RTDS-)/.test(line)) chains.push(`${cmd}/${table}/${line}`);
      }
    }
  }
  const links = sh('ip', ['-o', 'link', 'show']).split('\n')
    .filter((l) => /rtds-cni0|^\d+: veth/.test(l) && !/master (docker0|br-)/.test(l))
    .map((l) => l.split(':')[1].trim().split('@')[0]);
  const netns = fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns') : [];
  const sysctls = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'net/ipv4/conf/all/route_localnet',
    'net/netfilter/nf_conntrack_max', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes']
    .map((s) => `${s}=${fs.readFileSync(`/proc/sys/${s}`, 'utf8').trim()}`);
  const root = statePaths().root;
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(root) || m.startsWith('/var/run/netns/') || m.startsWith('/run/netns/') || m.startsWith('/run/containerd'));
  const processes = sh('ps', ['-eo', 'pid=,args=']).split('\n').filter((l) => l.includes(root) && !l.includes('jest'));
  const cgroups = fs.readdirSync('/sys/fs/cgroup').filter((c) => fs.existsSync(`/sys/fs/cgroup/${c}/kubepods`)).map((c) => `${c}/kubepods`);
  return { chains, links, netns, sysctls, mounts, processes, cgroups };
}
