import * as path from 'path';
import { App } from 'cdktf';
import { ConfigError, loadConfig, PipelineConfig } from './config';
import { DockerStack } from './stacks/docker';
import { KubernetesStack } from './stacks/kubernetes';

// One validated config feeds every deploy target, so both describe the same pipeline.
let config: PipelineConfig;
try {
  config = loadConfig();
} catch (err) {
  // A bad value is the user's to fix: say which field, not where in our code it was noticed.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const repoDir = path.resolve(__dirname);
const app = new App();
new DockerStack(app, 'docker', { config, repoDir });
new KubernetesStack(app, 'kubernetes', { config, repoDir });
app.synth();
