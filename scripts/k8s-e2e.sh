#!/usr/bin/env bash
# make k8s-e2e: the project's Kubernetes install on a real single-node cluster brought up on this
# machine, checked, and torn down (tests/k8s, README in deploy/README.md "Single-node cluster test").
#
#   API server part  etcd + kube-apiserver; Tetragon's and Prometheus Operator's CRDs; the
#                    kustomize install (kubectl apply --server-side -k deploy/kubernetes); every
#                    TracingPolicy; server-side dry runs of the other overlays and components.
#   Node part        kube-controller-manager, kube-scheduler, kubelet, containerd: tetragon-sim and
#                    the collector DaemonSets run; records reach VictoriaLogs, metrics Prometheus;
#                    rules ConfigMap edits reload without a restart; a bad one is refused.
#
# The node part needs root, overlayfs and cgroups; where it cannot run, it is skipped with the reason
# printed, and the API server part still runs. RTS_K8S_NODE=0 skips it on purpose.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
cd "$here/.."
begin=$(date +%s)
finish() {
  local rc=$?
  echo "k8s-e2e: $([ $rc = 0 ] && echo PASSED || echo FAILED) in $(( $(date +%s) - begin ))s (build included)"
  if [ -n "${RTS_K8S_NODE_SKIP:-}" ]; then
    echo "k8s-e2e: API server part only; NODE PART SKIPPED: $RTS_K8S_NODE_SKIP"
  fi
}
trap finish EXIT

./scripts/install-test-deps.sh
./scripts/k8s-deps.sh
export PATH="$PATH:$(go env GOPATH)/bin"

# Can this machine run a node?
skip=""
if [ "${RTS_K8S_NODE:-1}" = 0 ]; then
  skip="RTS_K8S_NODE=0 was set"
elif [ "$(id -u)" != 0 ]; then
  skip="not root: the kubelet and containerd need root"
elif ! grep -qw overlay /proc/filesystems; then
  skip="the kernel has no overlay filesystem, which containerd's snapshotter needs"
elif ! grep -q cgroup /proc/filesystems || [ -z "$(awk '$3 ~ /^cgroup/' /proc/mounts)" ]; then
  skip="no cgroup filesystem is mounted"
else
  for b in containerd ctr runc; do
    command -v "$b" >/dev/null || { skip="$b is not installed"; break; }
  done
fi
if [ -n "$skip" ]; then
  export RTS_K8S_NODE_SKIP="$skip"
  echo "k8s-e2e: NODE PART SKIPPED: $skip. Only the API server part runs."
fi

build_start=$(date +%s)
# Without a node no image is needed.
eval "$(RTS_K8S_NO_IMAGES="$([ -n "$skip" ] && echo 1)" ./scripts/k8s-build.sh)"
echo "k8s-e2e: build step (Kubernetes binaries, CRDs$([ -z "$skip" ] && echo ", images")) took $(( $(date +%s) - build_start ))s"

test_start=$(date +%s)
set +e
(cd tests/k8s && go test -count=1 -v -timeout 30m -run '^TestCluster$' .) 2>&1 | tee "${K8S_E2E_LOG:-/dev/null}"
rc=${PIPESTATUS[0]}
set -e
echo "k8s-e2e: cluster test took $(( $(date +%s) - test_start ))s"
exit "$rc"
