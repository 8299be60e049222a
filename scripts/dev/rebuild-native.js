// npm runs dependency install scripts with whatever `node` the machine has (often not 24), and
// cdktf's pty helper ships no prebuilt binary for Node 24's ABI. Rebuild it against the Node 24
// that the `node` devDependency provides, using that package's own headers (no download).
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

// The `node` package keeps the full distribution (with headers) in a per-platform dependency.
function nodeDistribution() {
  const candidates = [path.resolve(process.execPath, '..', '..')];
  try {
    const nodePkg = path.dirname(require.resolve('node/package.json'));
    const dist = require.resolve(`node-${process.platform}-${process.arch}/package.json`, { paths: [nodePkg] });
    candidates.unshift(path.dirname(dist));
  } catch {
    // not installed through the `node` package: try the running binary's own prefix
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'include', 'node', 'node.h'))) ?? candidates[0];
}
const nodeDir = nodeDistribution();
if (!fs.existsSync(path.join(nodeDir, 'include', 'node', 'node.h'))) {
  console.error(`rebuild-native: no Node headers under ${nodeDir}; is the 'node' devDependency installed?`);
  process.exit(1);
}
const pty = '@cdktf/node-pty-prebuilt-multiarch';
const loads = () =>
  spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pty)})`], { stdio: 'ignore' }).status === 0;
if (loads()) process.exit(0); // already built for this Node
execFileSync('npm', ['rebuild', pty], {
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodeDir },
});
if (!loads()) {
  console.error(`rebuild-native: ${pty} still does not load under Node ${process.version}`);
  process.exit(1);
}
console.log(`rebuild-native: ${pty} built for Node ${process.version}`);
