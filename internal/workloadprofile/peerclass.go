// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import "net/netip"

// Peer classes of network.peer.address. A profile records the classes a
// workload talks to and its destination ports, not addresses: pod and
// service IPs churn, "this workload never talked to the internet" does not.
const (
	PeerLoopback = "loopback" // 127/8, ::1, and the unspecified address (which reaches the host itself)
	PeerCluster  = "cluster"  // inside Config.ClusterCIDRs (pod and service ranges), when configured
	PeerPrivate  = "private"  // RFC 1918, 100.64/10 (CGNAT), link-local, fc00::/7 (ULA)
	PeerPublic   = "public"   // everything else
)

// PeerClasses lists every peer class.
var PeerClasses = []string{PeerLoopback, PeerCluster, PeerPrivate, PeerPublic}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ClassifyPeer returns the class of a peer address; "" for an invalid one.
// clusterCIDRs are checked after loopback and before the private ranges
// (cluster ranges are usually private ranges too). It does not allocate.
func ClassifyPeer(a netip.Addr, clusterCIDRs []netip.Prefix) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsUnspecified() {
		return PeerLoopback
	}
	for _, p := range clusterCIDRs {
		if p.Contains(a) {
			return PeerCluster
		}
	}
	if a.IsPrivate() || cgnat.Contains(a) || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return PeerPrivate
	}
	return PeerPublic
}

func validPeerClass(c string) bool {
	for _, k := range PeerClasses {
		if c == k {
			return true
		}
	}
	return false
}
