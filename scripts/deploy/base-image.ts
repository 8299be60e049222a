// Builds the local Debian base every image in images/ starts FROM, for engines that cannot
// pull from an image registry: debootstrap --variant=minbase <suite>, trimmed like the
// official slim image, imported as rtdatastream/debian:<suite>-slim (and tagged
// debian:<suite>-slim so Dockerfiles written against the upstream name resolve locally).
// The root file system tarball is cached, so a second machine run only re-imports it.
//
// Usage: ts-node scripts/deploy/base-image.ts [--force]
//   RTDS_SUITE          Debian release to bootstrap (default bookworm; trixie for PostgreSQL 17)
//   RTDS_DEBIAN_MIRROR  Debian mirror for debootstrap; default: the first one apt is configured with
//   RTDS_EXTRA_CA_DIR   extra CA certificates (*.crt) the images trust; default: the host's
//                       /usr/local/share/ca-certificates (empty on most machines)
import * as fs from 'fs';
import * as path from 'path';
import { $, which } from 'zx';
import { defaultCacheDir } from '../services/service';

const log = (m: string) => process.stderr.write(`[base-image.ts] ${m}\n`);
const fail = (m: string): never => {
  throw new Error(`[base-image.ts] error: ${m}`);
};
const quiet = $({ quiet: true });

/** The mirror the host's apt already uses: deb822 sources first, then the one-line format. */
function hostMirror(): string {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (fs.existsSync(deb822)) {
    const m = /^URIs:\s*(\S+)/m.exec(fs.readFileSync(deb822, 'utf8'));
    if (m) return m[1];
  }
  if (fs.existsSync('/etc/apt/sources.list')) {
    const m = /^deb\s+(\S+)/m.exec(fs.readFileSync('/etc/apt/sources.list', 'utf8'));
    if (m) return m[1];
  }
  return '';
}

const imageExists = async (tag: string) => (await $({ quiet: true, nothrow: true })`docker image inspect ${tag}`).exitCode === 0;
const sizeMb = async (tag: string) => `${Math.round(Number((await quiet`docker image inspect -f ${'{{.Size}}'} ${tag}`).stdout.trim()) / 1e6)} MB`;

export async function ensureBaseImage(suite = process.env.RTDS_SUITE || 'bookworm', force = false): Promise<void> {
  const cache = path.join(defaultCacheDir(), 'base');
  const tarball = path.join(cache, `debian-${suite}-minbase.tar`);
  const tag = `rtdatastream/debian:${suite}-slim`;
  const alias = `debian:${suite}-slim`;
  const extraCaDir = process.env.RTDS_EXTRA_CA_DIR || '/usr/local/share/ca-certificates';
  if (process.getuid?.() !== 0) fail('debootstrap needs root');
  if (force) {
    fs.rmSync(tarball, { force: true });
    await $({ quiet: true, nothrow: true })`docker image rm -f ${tag} ${alias}`;
  }
  if ((await imageExists(tag)) && fs.existsSync(tarball)) {
    if (!(await imageExists(alias))) await quiet`docker tag ${tag} ${alias}`;
    log(`${tag} already present`);
    return;
  }
  if (!fs.existsSync(tarball)) {
    if (!(await which('debootstrap', { nothrow: true }))) {
      log('installing debootstrap');
      await quiet`apt-get update -qq`;
      await $({ quiet: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq --no-install-recommends debootstrap`;
    }
    const mirror = process.env.RTDS_DEBIAN_MIRROR || hostMirror();
    if (!mirror) fail("no Debian mirror found in apt's sources; set RTDS_DEBIAN_MIRROR");
    fs.mkdirSync(cache, { recursive: true });
    const root = fs.mkdtempSync(path.join(cache, 'rootfs.'));
    try {
      const start = Date.now();
      log(`debootstrap ${suite} from the host's mirror into ${root}`);
      const bootLog = path.join(cache, 'debootstrap.log');
      const boot = await $({ quiet: true, nothrow: true })`debootstrap --variant=minbase --include=ca-certificates ${suite} ${root} ${mirror}`;
      fs.writeFileSync(bootLog, boot.stdout + boot.stderr);
      if (boot.exitCode !== 0) {
        process.stderr.write((boot.stdout + boot.stderr).trimEnd().split('\n').slice(-20).join('\n') + '\n');
        fail(`debootstrap failed (see ${bootLog})`);
      }
      // Same apt sources as the host (updates and security included), then the slim image's trims.
      const deb822 = '/etc/apt/sources.list.d/debian.sources';
      if (fs.existsSync(deb822)) {
        const hostSuite = /^VERSION_CODENAME=(.*)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
        fs.writeFileSync(path.join(root, deb822), fs.readFileSync(deb822, 'utf8').replace(new RegExp(`\\b${hostSuite}\\b`, 'g'), suite));
        fs.rmSync(path.join(root, 'etc/apt/sources.list'), { force: true });
      }
      // Builds inside the image reach the registries through the same TLS path as the host: trust
      // the extra certificate authorities the host trusts (e.g. a company's TLS-inspecting proxy).
      const cas = fs.existsSync(extraCaDir) ? fs.readdirSync(extraCaDir).filter((f) => f.endsWith('.crt')) : [];
      if (cas.length) {
        for (const ca of cas) fs.copyFileSync(path.join(extraCaDir, ca), path.join(root, 'usr/local/share/ca-certificates', ca));
        await quiet`chroot ${root} update-ca-certificates`;
        log(`added ${cas.length} extra CA certificate(s) from ${extraCaDir}`);
      }
      fs.writeFileSync(path.join(root, 'etc/dpkg/dpkg.cfg.d/rtdatastream-slim'), [
        'path-exclude /usr/share/doc/*', 'path-include /usr/share/doc/*/copyright', 'path-exclude /usr/share/man/*',
        'path-exclude /usr/share/info/*', 'path-exclude /usr/share/locale/*', ''].join('\n'));
      fs.writeFileSync(path.join(root, 'etc/apt/apt.conf.d/rtdatastream-slim'), [
        'APT::Install-Recommends "false";', 'APT::Install-Suggests "false";', 'Acquire::Languages "none";',
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };', ''].join('\n'));
      for (const d of ['var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'tmp']) {
        for (const e of fs.existsSync(path.join(root, d)) ? fs.readdirSync(path.join(root, d)) : []) fs.rmSync(path.join(root, d, e), { recursive: true, force: true });
      }
      for (const f of fs.readdirSync(path.join(root, 'var/cache/apt')).filter((f) => f.endsWith('.bin'))) fs.rmSync(path.join(root, 'var/cache/apt', f));
      for (const f of fs.readdirSync(path.join(root, 'var/log')).filter((f) => f.endsWith('.log'))) fs.rmSync(path.join(root, 'var/log', f));
      // Java's postinst (update-alternatives) fails when the man page directories are missing.
      for (let i = 1; i <= 8; i++) fs.mkdirSync(path.join(root, `usr/share/man/man${i}`), { recursive: true });
      await quiet`tar --numeric-owner -C ${root} -cf ${`${tarball}.partial`} .`;
      fs.renameSync(`${tarball}.partial`, tarball);
      log(`root file system ready in ${Math.round((Date.now() - start) / 1000)} s: ${tarball} (${Math.round(fs.statSync(tarball).size / 2 ** 20)}M)`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  await quiet`docker import --change ${'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'} --change ${'ENV LANG=C.UTF-8'} --change ${'CMD ["bash"]'} ${tarball} ${tag}`;
  await quiet`docker tag ${tag} ${alias}`;
  log(`imported ${tag} (${await sizeMb(tag)})`);
}

if (require.main === module) {
  ensureBaseImage(undefined, process.argv[2] === '--force').catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
