// The kubectl a user runs: a small script in the state directory that runs the kubectl built
// with the cluster against the cluster's kubeconfig (/usr/bin/kubectl here is another program).
import * as fs from 'fs';
import * as path from 'path';
import { programPath } from './build';
import { StatePaths } from './layout';

export function userKubectl(paths: StatePaths): string {
  const script = path.join(paths.bin, 'kubectl');
  const text = `#!/bin/sh\n# Written by scripts/cluster: kubectl for RTDataStream's test cluster.\nexec '${programPath('kubectl')}' --kubeconfig '${paths.kubeconfig}' "$@"\n`;
  fs.mkdirSync(paths.bin, { recursive: true });
  if (!fs.existsSync(script) || fs.readFileSync(script, 'utf8') !== text) fs.writeFileSync(script, text, { mode: 0o755 });
  return script;
}
