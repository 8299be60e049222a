// A one-file OCI image archive that `ctr images import` reads: how the pause program becomes
// the sandbox image without a registry or a Docker build.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { $ } from 'zx';

function blob(dir: string, content: Buffer): { digest: string; size: number } {
  const hex = createHash('sha256').update(content).digest('hex');
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', hex), content);
  return { digest: `sha256:${hex}`, size: content.length };
}

/** Writes `archive`, an image named `name` holding `program` at `target` as its entrypoint. */
export async function writeOciImage(archive: string, name: string, program: string, target: string): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-oci-'));
  try {
    fs.mkdirSync(path.join(work, 'blobs', 'sha256'), { recursive: true });
    const rootfs = path.join(work, 'rootfs');
    fs.mkdirSync(path.join(rootfs, path.dirname(target)), { recursive: true });
    fs.copyFileSync(program, path.join(rootfs, target));
    fs.chmodSync(path.join(rootfs, target), 0o755);
    const layerTar = path.join(work, 'layer.tar');
    // Fixed owner and time: the same program always gives the same image id.
    await $`tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C ${rootfs} -cf ${layerTar} ${target.replace(/^\//, '')}`;
    const layer = blob(work, fs.readFileSync(layerTar));
    const config = blob(work, Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux',
      config: { Entrypoint: [target], User: '65535:65535' },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    })));
    const manifest = blob(work, Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    })));
    fs.writeFileSync(path.join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(path.join(work, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      }],
    }));
    fs.mkdirSync(path.dirname(archive), { recursive: true });
    await $`tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C ${work} -cf ${archive + '.partial'} oci-layout index.json blobs`;
    fs.renameSync(`${archive}.partial`, archive);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
