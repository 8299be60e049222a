import { App, TerraformStack } from 'cdktf';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Network } from '@cdktf/provider-docker/lib/network';
const app = new App();
const s = new TerraformStack(app, 'docker');
new DockerProvider(s, 'docker', {});
new Network(s, 'net', { name: 'rtds' });
app.synth();
