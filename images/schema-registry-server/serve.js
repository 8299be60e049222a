// Starts the compiled registry on every interface of the container (its own main() binds the
// loopback address only, which is right on a developer's machine but unreachable in a network).
const { createServer, SchemaStore } = require('./schema-registry-server.js');

const [port, storeFile] = process.argv.slice(2);
if (!/^\d+$/.test(port ?? '') || !storeFile) {
  console.error('usage: node serve.js <port> <store file>');
  process.exit(2);
}
const server = createServer(new SchemaStore(storeFile));
server.listen(Number(port), '0.0.0.0', () => console.log(`schema registry listening on 0.0.0.0:${port}, store ${storeFile}`));
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
