#!/usr/bin/env bash
# Builds what the single-node cluster test (tests/k8s, `make k8s-e2e`) runs, and prints the
# RTS_K8S_* variables that tell the test where it is (eval "$(scripts/k8s-build.sh)").
#
#   Kubernetes   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl from the
#                k8s.io/kubernetes version of tests/k8s/go.mod. Cached in
#                $RTS_K8S_CACHE (default ~/.cache/otelcol-rts-k8s) under the Kubernetes version,
#                the Go version and go.sum's hash: a second run builds nothing.
#   CRDs         Tetragon's, from the github.com/cilium/tetragon module at the version of
#                github.com/cilium/tetragon/api in go.mod; Prometheus Operator's, generated with
#                controller-gen (as upstream's `make generate-crds` does) from the
#                github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring module at
#                the version in go.mod. Both from the Go module proxy; cached.
#   Images       the collector (`make image` with FROM_BINARY=1, tagged as the DaemonSet names it),
#                tetragon-sim, a pause image (tests/k8s/cmd/pause) and busybox (Debian's static
#                binary, tagged as the DaemonSet's init container names it), built with buildah
#                from scratch and saved as archives for `ctr images import`: nothing is pulled.
#                RTS_K8S_NO_IMAGES=1 skips them (no node to run them).
#
# Progress goes to stderr; only the variables go to stdout.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
cd "$here/.."
repo="$PWD"
log() { echo "k8s-build: $*" >&2; }

cache="${RTS_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-rts-k8s}"
CONTROLLER_GEN_VERSION="${CONTROLLER_GEN_VERSION:-v0.20.1}"
mkdir -p "$cache"

# ---- Kubernetes binaries ---------------------------------------------------------------------
k8s_version="$(sed -n 's/^require k8s.io\/kubernetes \(v[^ ]*\).*/\1/p; s/^\tk8s.io\/kubernetes \(v[^ ]*\).*/\1/p' tests/k8s/go.mod | head -1)"
[ -n "$k8s_version" ] || { log "no k8s.io/kubernetes version in tests/k8s/go.mod"; exit 1; }
go_version="$(go env GOVERSION)"
sum="$(sha256sum tests/k8s/go.sum | cut -c1-12)"
bindir="$cache/k8s-$k8s_version-$go_version-$sum-r2/bin" # r2: bump when the build command changes
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
missing=0
for c in "${cmds[@]}"; do [ -x "$bindir/$c" ] || missing=1; done
if [ "$missing" = 1 ]; then
  log "building Kubernetes $k8s_version (${cmds[*]}) with $go_version: several minutes the first time"
  start=$(date +%s)
  tmp="$bindir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  pkgs=(); for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  # Static, stripped, and stamped with the release as Kubernetes' own build does (hack/lib/version.sh),
  # so that nodes and `kubectl version` report it.
  minor="${k8s_version#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=archive"
  done
  (cd tests/k8s && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}") >&2
  rm -rf "$bindir"; mv "$tmp" "$bindir"
  log "built Kubernetes $k8s_version in $(( $(date +%s) - start ))s -> $bindir"
  # Builds of other versions (hundreds of MB each) are of no further use.
  for d in "$cache"/k8s-*; do
    [ "$d" = "${bindir%/bin}" ] || rm -rf "$d"
  done
else
  log "Kubernetes $k8s_version binaries cached in $bindir"
fi

# ---- CRDs --------------------------------------------------------------------------------------
modver() { go list -m -f '{{.Version}}' "$1"; }
tetragon_version="$(modver github.com/cilium/tetragon/api)"
po_version="$(modver github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring)"
crddir="$cache/crds-tetragon-$tetragon_version-prometheus-operator-$po_version"
if [ ! -f "$crddir/.complete" ]; then
  log "CRDs: Tetragon $tetragon_version, Prometheus Operator $po_version (controller-gen $CONTROLLER_GEN_VERSION)"
  tmp="$crddir.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  moddir="$(mktemp -d)"
  # go mod download outside any module: prints where the module is in the module cache.
  download() { (cd "$moddir" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
  tdir="$(download "github.com/cilium/tetragon@$tetragon_version")"
  cp "$tdir"/install/kubernetes/tetragon/crds-yaml/*.yaml "$tmp/"
  pdir="$(download "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring@$po_version")"
  cg="$cache/tools/controller-gen-$CONTROLLER_GEN_VERSION/controller-gen"
  if [ ! -x "$cg" ]; then
    (cd "$moddir" && GOBIN="$(dirname "$cg")" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION") >&2
  fi
  # The module cache is read-only and controller-gen loads packages in place: work on a copy.
  cp -r "$pdir" "$moddir/monitoring"; chmod -R u+w "$moddir/monitoring"
  (cd "$moddir/monitoring" && GOFLAGS=-mod=mod "$cg" crd:crdVersions=v1 paths=./v1/. paths=./v1alpha1/. output:crd:dir="$tmp") >&2
  # What upstream's append-operator-version.sh adds.
  for f in "$tmp"/monitoring.coreos.com_*.yaml; do
    sed -i "0,/^  annotations:\$/s//  annotations:\n    operator.prometheus.io\/version: ${po_version#v}/" "$f"
  done
  rm -rf "$moddir"
  touch "$tmp/.complete"
  rm -rf "$crddir"; mv "$tmp" "$crddir"
else
  log "CRDs cached in $crddir"
fi

# ---- Images ------------------------------------------------------------------------------------
if [ -n "${RTS_K8S_NO_IMAGES:-}" ]; then
  log "no images (RTS_K8S_NO_IMAGES: the node part does not run)"
  echo "export RTS_K8S_BIN='$bindir'"
  echo "export RTS_K8S_CRDS='$crddir'"
  exit 0
fi
command -v buildah >/dev/null || { log "buildah is not installed (scripts/k8s-deps.sh installs it)"; exit 1; }
imgdir="$cache/images"
mkdir -p "$imgdir"
# The images the DaemonSet names: the collector and its init container.
collector_ref="$(sed -n 's/^ *image: *\(ghcr.io\/[^ ]*otelcol-runtime-security:[^ ]*\)$/\1/p' deploy/kubernetes/base/daemonset.yaml | head -1)"
busybox_ref="$(sed -n 's/^ *image: *\(\(docker.io\/library\/\)\{0,1\}busybox:[^ ]*\)$/\1/p' deploy/kubernetes/base/daemonset.yaml | head -1)"
[ -n "$collector_ref" ] && [ -n "$busybox_ref" ] || { log "cannot find the collector and busybox images in deploy/kubernetes/base/daemonset.yaml"; exit 1; }
case "$busybox_ref" in docker.io/*) ;; *) busybox_ref="docker.io/library/$busybox_ref" ;; esac
sim_ref="localhost/otelcol-rts-k8s/tetragon-sim:e2e"
pause_ref="registry.k8s.io/pause:3.10"

save() { # save REF FILE: the image as a docker archive for ctr import
  rm -f "$2"
  buildah push -q "$1" "docker-archive:$2:$1" >/dev/null
}
# scratch_image REF CONTEXT ENTRYPOINT [USER]: CONTEXT's files at / on an empty base.
scratch_image() {
  local c
  c="$(buildah from scratch)"
  buildah copy -q "$c" "$2" / >/dev/null
  buildah config --entrypoint "$3" ${4:+--user "$4"} "$c"
  buildah commit -q --rm "$c" "$1" >/dev/null
}

start=$(date +%s)
log "image $collector_ref (make image, FROM_BINARY=1)"
IMAGE="${collector_ref%:*}" VERSION="${collector_ref##*:}" FROM_BINARY=1 ./scripts/build-image.sh >&2
save "$collector_ref" "$imgdir/collector.tar"

ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
log "image $sim_ref"
mkdir -p "$ctx/sim"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/sim/tetragon-sim" ./testbed/cmd/tetragon-sim
scratch_image "$sim_ref" "$ctx/sim" '["/tetragon-sim"]'
save "$sim_ref" "$imgdir/tetragon-sim.tar"

log "image $pause_ref (tests/k8s/cmd/pause)"
mkdir -p "$ctx/pause"
(cd tests/k8s && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/pause/pause" ./cmd/pause)
scratch_image "$pause_ref" "$ctx/pause" '["/pause"]' 65535:65535
save "$pause_ref" "$imgdir/pause.tar"

log "image $busybox_ref (Debian's busybox-static $(/bin/busybox 2>&1 | head -1 | awk '{print $2}'))"
mkdir -p "$ctx/busybox/bin"
cp /bin/busybox "$ctx/busybox/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ctx/busybox/bin/$a"; done
scratch_image "$busybox_ref" "$ctx/busybox" '[]'
save "$busybox_ref" "$imgdir/busybox.tar"
# The archives are what the test uses: drop our three images from buildah's storage.
buildah rmi -f "$sim_ref" "$pause_ref" "$busybox_ref" >/dev/null 2>&1 || true
log "images built in $(( $(date +%s) - start ))s -> $imgdir"

cat <<EOF
export RTS_K8S_BIN='$bindir'
export RTS_K8S_CRDS='$crddir'
export RTS_K8S_IMAGES='$imgdir/collector.tar $imgdir/tetragon-sim.tar $imgdir/pause.tar $imgdir/busybox.tar'
export RTS_K8S_PAUSE_IMAGE='$pause_ref'
EOF
