#!/usr/bin/env bash
# Installs what `make k8s-e2e` needs beyond scripts/install-test-deps.sh, from Debian's apt:
# etcd (the API server's store), containerd + runc (the node's runtime), the CNI plugins, busybox
# (the image of the DaemonSet's init container, built locally) and iptables.
# Idempotent; does nothing when everything is installed.
set -euo pipefail

need_apt=()
command -v etcd >/dev/null || need_apt+=(etcd-server)
command -v containerd >/dev/null || need_apt+=(containerd)
command -v ctr >/dev/null || need_apt+=(containerd)
command -v runc >/dev/null || need_apt+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] || need_apt+=(containernetworking-plugins)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || need_apt+=(busybox-static)
command -v iptables >/dev/null || need_apt+=(iptables)
command -v buildah >/dev/null || need_apt+=(buildah)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "k8s-deps: apt-get install $(printf '%s\n' "${need_apt[@]}" | sort -u | tr '\n' ' ')"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
  # The test starts its own etcd and containerd on its own ports and sockets; stop the services
  # the packages may have started (systemd machines) so they cost nothing.
  for svc in etcd containerd; do
    (command -v systemctl >/dev/null && $sudo systemctl stop "$svc" 2>/dev/null) || true
  done
fi
echo "k8s-deps ready: $(etcd --version 2>/dev/null | head -1); containerd $(containerd --version | awk '{print $3}'); $(runc --version | head -1); CNI plugins in /usr/lib/cni"
