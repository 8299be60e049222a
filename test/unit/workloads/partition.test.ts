import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { partitionForKey } from '../../../workloads/shared/kafka';

// Kafka's own vectors for Utils.murmur2 (the Java client's UtilsTest), as the unsigned numbers
// @platformatic/kafka's default partitioner answers for them.
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('partitionForKey: the client\'s default partitioner, faster', () => {
  it('hashes as Kafka\'s murmur2 does', () => {
    for (const [key, hash] of JAVA_MURMUR2) expect(partitionForKey(key, Buffer.from(key))).toBe(hash >>> 0);
  });

  it('puts every key where @platformatic/kafka\'s default partitioner puts it, multi-byte keys too', () => {
    const keys = [...Array.from({ length: 500 }, () => randomUUID()), 'ünïcødé-ключ', '', 'x'.repeat(37), '😀 emoji'];
    // The client is an ES module that Jest's module system does not load: asked in a child Node.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { defaultPartitioner } from '@platformatic/kafka';
       const keys = JSON.parse(process.argv[1]);
       process.stdout.write(JSON.stringify(keys.map((k) => defaultPartitioner(undefined, Buffer.from(k)))));`,
      JSON.stringify(keys)], { encoding: 'utf8', cwd: __dirname });
    expect(child.stderr).toBe('');
    const theirs = JSON.parse(child.stdout) as number[];
    expect(keys.map((k) => partitionForKey(k, Buffer.from(k)))).toEqual(theirs);
    // The bytes alone (a Buffer key) give the same.
    expect(keys.map((k) => partitionForKey(Buffer.from(k), Buffer.from(k)))).toEqual(theirs);
  });
});
