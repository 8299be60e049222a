#!/usr/bin/env bash
# Builds the local Debian base every image in images/ starts FROM, for engines that cannot
# pull from an image registry: debootstrap --variant=minbase bookworm, trimmed like the
# official slim image, imported as rtdatastream/debian:bookworm-slim (and tagged
# debian:bookworm-slim so Dockerfiles written against the upstream name resolve locally).
# The root file system tarball is cached, so a second machine run only re-imports it.
#
# Usage: scripts/deploy/base-image.sh [--force]
#   RTDS_SUITE          Debian release to bootstrap (default bookworm; trixie for PostgreSQL 17)
#   RTDS_DEBIAN_MIRROR  Debian mirror for debootstrap; default: the first one apt is configured with
#   RTDS_EXTRA_CA_DIR   extra CA certificates (*.crt) the images trust; default: the host's
#                       /usr/local/share/ca-certificates (empty on most machines)
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rtdatastream/base"
SUITE="${RTDS_SUITE:-bookworm}"
TARBALL="$CACHE/debian-$SUITE-minbase.tar"
TAG="rtdatastream/debian:$SUITE-slim"
EXTRA_CA_DIR="${RTDS_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"
ALIAS="debian:$SUITE-slim"

log() { printf '[base-image.sh] %s\n' "$*" >&2; }
die() { printf '[base-image.sh] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
[ "${1:-}" = "--force" ] && rm -f "$TARBALL" && docker image rm -f "$TAG" "$ALIAS" >/dev/null 2>&1 || true

if docker image inspect "$TAG" >/dev/null 2>&1 && [ -f "$TARBALL" ]; then
  docker image inspect "$ALIAS" >/dev/null 2>&1 || docker tag "$TAG" "$ALIAS"
  log "$TAG already present"; exit 0
fi

host_mirror() {
  # The mirror the host's apt already uses: deb822 sources first, then the one-line format.
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)"
  fi
  printf '%s' "$m"
}

if [ ! -f "$TARBALL" ]; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  MIRROR="${RTDS_DEBIAN_MIRROR:-$(host_mirror)}"
  [ -n "$MIRROR" ] || die "no Debian mirror found in apt's sources; set RTDS_DEBIAN_MIRROR"
  mkdir -p "$CACHE"
  ROOT="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$ROOT"' EXIT
  start=$SECONDS
  log "debootstrap $SUITE from the host's mirror into $ROOT"
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (see $CACHE/debootstrap.log)"; }
  # Same apt sources as the host (updates and security included), then the slim image's trims.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    host_suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
    sed "s/\b$host_suite\b/$SUITE/g" /etc/apt/sources.list.d/debian.sources > "$ROOT/etc/apt/sources.list.d/debian.sources"
    rm -f "$ROOT/etc/apt/sources.list"
  fi
  # Builds inside the image reach the registries through the same TLS path as the host: trust
  # the extra certificate authorities the host trusts (e.g. a company's TLS-inspecting proxy).
  if compgen -G "$EXTRA_CA_DIR/*.crt" >/dev/null; then
    cp "$EXTRA_CA_DIR"/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null
    log "added $(ls "$EXTRA_CA_DIR"/*.crt | wc -l) extra CA certificate(s) from $EXTRA_CA_DIR"
  fi
  cat > "$ROOT/etc/dpkg/dpkg.cfg.d/rtdatastream-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  cat > "$ROOT/etc/apt/apt.conf.d/rtdatastream-slim" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
CFG
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* \
    "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/var/log/*.log "$ROOT"/tmp/*
  # Java's postinst (update-alternatives) fails when the man page directories are missing.
  mkdir -p "$ROOT"/usr/share/man/man{1,2,3,4,5,6,7,8}
  tar --numeric-owner -C "$ROOT" -cf "$TARBALL.partial" .
  mv "$TARBALL.partial" "$TARBALL"
  log "root file system ready in $((SECONDS - start)) s: $TARBALL ($(du -h "$TARBALL" | cut -f1))"
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' \
  "$TARBALL" "$TAG" >/dev/null
docker tag "$TAG" "$ALIAS"
log "imported $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
