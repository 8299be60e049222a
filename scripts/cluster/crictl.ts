// crictl pointed at the cluster's containerd through a config file in the state directory
// (users can run `crictl --config <state>/crictl.yaml ps` the same way).
import * as fs from 'fs';
import * as path from 'path';
import { programPath } from './build';
import { StatePaths } from './layout';

/** The command and its --config argument, ready to spread into a zx command line. */
export function crictl(paths: StatePaths): string[] {
  const config = path.join(paths.root, 'crictl.yaml');
  const endpoint = `unix://${paths.containerdSocket}`;
  const text = `runtime-endpoint: ${endpoint}\nimage-endpoint: ${endpoint}\ntimeout: 30\n`;
  if (!fs.existsSync(config) || fs.readFileSync(config, 'utf8') !== text) {
    fs.mkdirSync(paths.root, { recursive: true });
    fs.writeFileSync(config, text);
  }
  return [programPath('crictl'), '--config', config];
}
