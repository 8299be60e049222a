import * as path from 'path';
import { App } from 'cdktf';
import { loadConfig } from './stacks/config';
import { DockerStack } from './stacks/docker';
import { KubernetesStack } from './stacks/kubernetes';

// One validated config feeds every deploy target, so both describe the same pipeline.
const config = loadConfig();
const repoDir = path.resolve(__dirname);
const app = new App();
new DockerStack(app, 'docker', { config, repoDir });
new KubernetesStack(app, 'kubernetes', { config, repoDir });
app.synth();
