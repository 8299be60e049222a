#!/usr/bin/env bash
# Makes a Terraform binary and the exact providers the stacks use available offline.
#
# Everything is built from Go module source (the Go module proxy is the only place these
# programs can come from without the Terraform registry) and cached under
#   ${XDG_CACHE_HOME:-~/.cache}/rtdatastream/terraform/
#     bin/terraform                      the CLI (built only when none is usable)
#     providers/registry.terraform.io/<ns>/<name>/<version>/linux_amd64/terraform-provider-<name>_v<version>
#     terraformrc                        CLI config: provider_installation { filesystem_mirror }
#     env.sh                             exports TF_CLI_CONFIG_FILE, TERRAFORM_BINARY_NAME, RTDS_PROVIDER_<NAME>
# Idempotent: a second run finds everything cached and only rewrites the two small files.
#
# Usage: scripts/deploy/terraform.sh [--print-env]
#   RTDS_TERRAFORM_FROM_SOURCE=1  build Terraform even if one is on PATH
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rtdatastream/terraform"
MIRROR="$CACHE/providers"
BIN="$CACHE/bin"
WORK="$CACHE/build"
TERRAFORM_VERSION="1.11.4"
# Oldest Terraform that cdktf 0.21 supports and that reads filesystem mirrors the same way.
TERRAFORM_MIN="1.5.0"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0

log() { printf '[terraform.sh] %s\n' "$*" >&2; }
die() { printf '[terraform.sh] error: %s\n' "$*" >&2; exit 1; }

# Providers: <namespace> <name> <mirror version> <Go module path> <Go module version>.
# scripts/deploy/offline-app.ts pins required_providers to the mirror version (RTDS_PROVIDER_*).
# The Go module proxy serves only some commits of these modules: the docker provider's only one is
# this commit after tag v4.6.0, and no 2.x kubernetes or 3.x random exists (docs/DEPLOY.md).
PROVIDERS=(
  "kreuzwerker docker 4.6.0 github.com/kreuzwerker/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4"
  # The only kubernetes provider commit the proxy serves (what @main resolved to): 3.2.1's source.
  "hashicorp kubernetes 3.2.1 github.com/hashicorp/terraform-provider-kubernetes v1.13.4-0.20260821094251-3a33fb6cc605"
)

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

need_go() {
  command -v go >/dev/null || die "Go >= 1.25 is needed to build Terraform and its providers from module source, and no 'go' is on PATH"
}

# Downloads a module version from the Go module proxy and copies it somewhere writable,
# because modules with replace directives must be built inside their own tree.
fetch_module() {
  local path="$1" version="$2" dest="$3"
  local dir
  dir="$(cd /tmp && go mod download -json "$path@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $path@$version gave no source directory"
  rm -rf "$dest"; mkdir -p "$(dirname "$dest")"
  cp -r "$dir" "$dest"; chmod -R u+w "$dest"
}

ensure_terraform() {
  TERRAFORM=""
  if [ -x "$BIN/terraform" ]; then
    TERRAFORM="$BIN/terraform"
  elif [ -z "${RTDS_TERRAFORM_FROM_SOURCE:-}" ] && command -v terraform >/dev/null; then
    local have
    have="$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
    if [ -n "$have" ] && version_ge "$have" "$TERRAFORM_MIN"; then
      TERRAFORM="$(command -v terraform)"
      log "using Terraform $have at $TERRAFORM"
    fi
  fi
  if [ -z "$TERRAFORM" ]; then
    need_go
    log "building Terraform $TERRAFORM_VERSION from Go module source (several minutes on 2 cores)"
    local start=$SECONDS src="$WORK/terraform-$TERRAFORM_VERSION"
    fetch_module github.com/hashicorp/terraform "v$TERRAFORM_VERSION" "$src"
    # Go >= 1.26 rejects this setting (its experiment ended); dropping it changes no behaviour.
    (cd "$src" && go mod edit -dropgodebug=tlskyber)
    # The remote-state backends are nested modules that the module zip leaves out; the stacks
    # keep local state, so build without them (the local, remote, cloud, http backends stay).
    local gone="azure consul cos gcs kubernetes oss pg s3" b
    sed -i -E '/backend(Azure|Consul|Cos|GCS|Kubernetes|OSS|Pg|S3)[ .]/d' "$src/internal/backend/init/init.go"
    for b in $gone; do
      (cd "$src" && go mod edit -dropreplace="github.com/hashicorp/terraform/internal/backend/remote-state/$b" \
        -droprequire="github.com/hashicorp/terraform/internal/backend/remote-state/$b")
    done
    mkdir -p "$BIN"
    (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/hashicorp/terraform/version.dev=no" -o "$BIN/terraform.partial" .)
    mv "$BIN/terraform.partial" "$BIN/terraform"
    rm -rf "$src"
    TERRAFORM="$BIN/terraform"
    log "built Terraform in $((SECONDS - start)) s"
  fi
}

ensure_provider() {
  local ns="$1" name="$2" version="$3" module="$4" modversion="$5"
  local dir="$MIRROR/registry.terraform.io/$ns/$name/$version/linux_amd64"
  local out="$dir/terraform-provider-${name}_v$version"
  if [ -x "$out" ]; then return; fi
  need_go
  log "building provider $ns/$name $version from $module@$modversion"
  local start=$SECONDS src="$WORK/$name-$version"
  fetch_module "$module" "$modversion" "$src"
  mkdir -p "$dir"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X main.version=$version -X main.Version=$version" -o "$out.partial" .)
  mv "$out.partial" "$out"
  rm -rf "$src"
  log "built $ns/$name $version in $((SECONDS - start)) s"
}

write_config() {
  mkdir -p "$CACHE"
  cat > "$CACHE/terraformrc" <<RC
# Written by scripts/deploy/terraform.sh: providers come only from the local mirror.
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/*/*"]
  }
}
RC
  cat > "$CACHE/env.sh" <<ENV
export TF_CLI_CONFIG_FILE="$CACHE/terraformrc"
export TERRAFORM_BINARY_NAME="$TERRAFORM"
export CHECKPOINT_DISABLE=1
$(for p in "${PROVIDERS[@]}"; do set -- $p; echo "export RTDS_PROVIDER_$(echo "$2" | tr "[:lower:]-" "[:upper:]_")=$3"; done)
ENV
}

ensure_terraform
for p in "${PROVIDERS[@]}"; do
  # shellcheck disable=SC2086
  ensure_provider $p
done
write_config
if [ "${1:-}" = "--print-env" ]; then cat "$CACHE/env.sh"; else log "ready: source $CACHE/env.sh"; fi
