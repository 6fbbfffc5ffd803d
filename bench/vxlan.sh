#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# iperf3, one TCP stream: pod -> pod across two nodes over our VXLAN overlay, against
# node -> node on the same fabric (the underlay), in one run.  Only netns of its own;
# traffic only between them.  Run from the repo root after `make` (or via `make bench`).
# Then the same two again with the fabric's ports shaped to BENCH_FABRIC_RATE (tbf, default
# 5gbit; 0: skip), as when a NIC and not the CPU is the limit.
# Env: BENCH_SECONDS (default 10), BUILD (default build), BENCH_FABRIC_RATE.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/bin
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_FABRIC_RATE:-5gbit}
P=pnbv$$
TMP=$(mktemp -d /tmp/pn-bench-vxlan.XXXXXX)
cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns pids "$ns" | xargs -r kill 2>/dev/null; ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
command -v iperf3 >/dev/null || { echo "vxlan.sh: iperf3 missing (scripts/install-deps)" >&2; exit 1; }

declare -A IP=([a]=192.0.2.1 [b]=192.0.2.2) NUM=([a]=1 [b]=2)
ip netns add "$P-fab"
ip -n "$P-fab" link add fab type bridge && ip -n "$P-fab" link set fab up
for n in a b; do
	ip netns add "$P-$n"
	ip -n "$P-fab" link add "${P}$n" type veth peer name eth0 netns "$P-$n"
	ip -n "$P-fab" link set "${P}$n" master fab up
	ip -n "$P-$n" addr add "${IP[$n]}/24" dev eth0
	ip -n "$P-$n" link set eth0 up
	ip -n "$P-$n" link set lo up
	ip -n "$P-$n" route add default dev eth0
	ip netns add "$P-pod$n"
	ip -n "$P-pod$n" link set lo up
	conf='{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"cni0","isGateway":true,"mtu":1450,
	 "ipam":{"type":"host-local","dataDir":"'$TMP/$n'","ranges":[[{"subnet":"10.244.'${NUM[$n]}'.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}'
	res=$(ip netns exec "$P-$n" env CNI_COMMAND=ADD CNI_CONTAINERID=pod$n CNI_NETNS=/run/netns/$P-pod$n CNI_IFNAME=eth0 \
		CNI_PATH="$BIN" "$BIN/bridge" <<<"$conf")
	printf '{"cniVersion":"1.0.0","name":"bench","type":"vxlan-overlay","peers":[{"nodeIP":"192.0.2.1","podCIDR":"10.244.1.0/24"},{"nodeIP":"192.0.2.2","podCIDR":"10.244.2.0/24"}],"prevResult":%s}' "$res" |
		ip netns exec "$P-$n" env CNI_COMMAND=ADD CNI_CONTAINERID=pod$n CNI_NETNS=/run/netns/$P-pod$n CNI_IFNAME=eth0 \
		CNI_PATH="$BIN" "$BIN/vxlan-overlay" >/dev/null
done

# iperf SERVER_NS CLIENT_NS ADDRESS: single-stream TCP throughput in Gbit/s
iperf() {
	ip netns exec "$1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local srv=$!
	sleep 0.5
	ip netns exec "$2" iperf3 -c "$3" -p 5201 -t "$SECS" -P 1 -J > "$TMP/out.json"
	wait "$srv" || true
	awk -F'[:,]' '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { printf "%.2f\n", $2 / 1e9; exit }' "$TMP/out.json"
}
ip netns exec "$P-poda" ping -c 1 -W 2 -q 10.244.2.2 >/dev/null   # ARP, FDB warm
under=$(iperf "$P-b" "$P-a" 192.0.2.2)
over=$(iperf "$P-podb" "$P-poda" 10.244.2.2)
if [[ $RATE != 0 ]]; then
	for n in a b; do ip netns exec "$P-fab" tc qdisc add dev "${P}$n" root tbf rate "$RATE" burst 4mb latency 20ms; done
	under_shaped=$(iperf "$P-b" "$P-a" 192.0.2.2)
	over_shaped=$(iperf "$P-podb" "$P-poda" 10.244.2.2)
fi

echo "## vxlan-overlay throughput"
echo
echo "- nproc: $(nproc), kernel: $(uname -r); iperf3 $(iperf3 --version | head -1 | awk '{print $2}'), one TCP stream, ${SECS} s each"
echo "- underlay: veth pairs through a Linux bridge in a fabric netns (MTU 1500); overlay MTU 1450"
echo
echo "| path | Gbit/s |"
echo "|---|---:|"
echo "| node a -> node b on the fabric (underlay) | $under |"
echo "| pod on a -> pod on b over VXLAN | $over |"
echo
awk -v o="$over" -v u="$under" 'BEGIN { printf "Overlay / underlay: %.0f %%\n", 100 * o / u }'
if [[ $RATE != 0 ]]; then
	echo
	echo "With the fabric's ports shaped to $RATE (tbf on the fabric bridge's ports), the network and not the CPU the limit:"
	echo
	echo "| path | Gbit/s |"
	echo "|---|---:|"
	echo "| node a -> node b on the fabric (underlay) | $under_shaped |"
	echo "| pod on a -> pod on b over VXLAN | $over_shaped |"
	echo
	awk -v o="$over_shaped" -v u="$under_shaped" 'BEGIN { printf "Overlay / underlay: %.0f %%\n", 100 * o / u }'
fi
