#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# podnet-proxy at 1k and 10k Services x 10 endpoints (BENCH_SIZES), in one run:
#  - cold start: the first full sync (the daemon's own measure, all chunks and the swap) and
#    the time from exec to /healthz 200 (reading and parsing the manifests included);
#  - one endpoint change (BENCH_CHANGES times): the daemon's sync of it, and end to end from
#    the file's rename into the directory to the daemon's log line;
#  - the daemon's peak RSS;
#  - connection latency (connect, first answer, close) from a pod to a real endpoint pod,
#    through a ClusterIP and straight to the pod's address, with all those Services loaded.
# One node netns with two pods (our bridge plugin); everything in netns of this run.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/bin
ECHO=$PWD/$BUILD/tests/pn-echo
SIZES=${BENCH_SIZES:-"1000 10000"}
CHANGES=${BENCH_CHANGES:-20}
CONNS=${BENCH_CONNS:-1000}
ROUNDS=${BENCH_ROUNDS:-9}
P=pnbp$$
NODE=$P-node
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pn-bench-proxy.XXXXXX")
PIDS=()
cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
for f in "$BIN/podnet-proxy" "$BIN/bridge" "$BIN/host-local" "$ECHO"; do
	[[ -x $f ]] || { echo "proxy.sh: $f missing (run make)" >&2; exit 1; }
done

ip netns add "$NODE"
ip -n "$NODE" link set lo up
ip -n "$NODE" link add "${P}x" type veth peer name "${P}y"   # the node's "uplink": a default route
ip -n "$NODE" addr add 192.0.2.1/24 dev "${P}x"
ip -n "$NODE" link set "${P}x" up
ip -n "$NODE" link set "${P}y" up
ip -n "$NODE" route add default via 192.0.2.2
declare -A IP
for pod in client server; do
	ip netns add "$P-$pod"
	ip -n "$P-$pod" link set lo up
	ip netns exec "$NODE" env CNI_COMMAND=ADD CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$P-$pod" CNI_IFNAME=eth0 \
		CNI_PATH="$BIN" "$BIN/bridge" >"$TMP/$pod.json" <<JSON
{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"cni0","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"$TMP/ipam","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}
JSON
	IP[$pod]=$(ip -n "$P-$pod" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
done
# the ClusterIP leads to :8080, the direct path goes to :8081: a connection of one path never
# meets the other's TIME_WAIT conntrack entry for the same ports
ip netns exec "$P-server" "$ECHO" serve 8080 server & PIDS+=($!)
ip netns exec "$P-server" "$ECHO" serve 8081 server & PIDS+=($!)
sleep 0.2

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
pct() {  # P: the P-th percentile (nearest rank) of the numbers on stdin
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'
}
declare -A COLD READY RSS CH_P50 CH_P95 E2E_P50 E2E_P95 LAT
for n in $SIZES; do
	dir=$TMP/m-$n
	bench/gen-services.sh "$dir" "$n" 10 100
	cat > "$dir/real.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: real, namespace: bench}
spec:
  clusterIP: 10.97.0.1
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: real-x, namespace: bench, labels: {kubernetes.io/service-name: real}}
addressType: IPv4
ports: [{name: p, port: 8080, protocol: TCP}]
endpoints:
- addresses: ["${IP[server]}"]
  conditions: {ready: true}
  nodeName: node-a
YAML
	log=$TMP/proxy-$n.log
	ip netns exec "$NODE" "$BIN/podnet-proxy" --cleanup
	t0=$(now_ms)
	ip netns exec "$NODE" "$BIN/podnet-proxy" --manifests "$dir" --node-name node-a --ip-families 4 -v 2 >"$log" 2>&1 &
	pid=$!
	PIDS+=($pid)
	until [[ $(ip netns exec "$NODE" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz) == 200 ]]; do
		kill -0 "$pid" || { cat "$log" >&2; exit 1; }
		sleep 0.01
	done
	READY[$n]=$(( $(now_ms) - t0 ))
	COLD[$n]=$(grep -m1 -o 'endpoints ([0-9]* elements) in [0-9.]* ms' "$log" | awk '{print $(NF-1)}')
	# one endpoint of one Service changes, in a file of 100 Services, written and renamed in
	f=$dir/svc-00000.yaml
	: > "$TMP/ch" ; : > "$TMP/e2e"
	for ((i = 0; i < CHANGES; i++)); do
		before=$(grep -c 'sync:' "$log" || true)
		sed "0,/10\.100\.0\.[0-9]*/s//10.100.0.$((200 + i % 50))/" "$f" > "$dir/.tmp"
		t0=$(date +%s%N)
		mv "$dir/.tmp" "$f"
		until (( $(grep -c 'sync:' "$log" || true) > before )); do sleep 0.001; done
		awk -v a="$(date +%s%N)" -v b="$t0" 'BEGIN { printf "%.3f\n", (a - b) / 1e6 }' >> "$TMP/e2e"
		grep 'sync:' "$log" | tail -1 | grep -o 'in [0-9.]* ms' | awk '{print $2}' >> "$TMP/ch"
	done
	CH_P50[$n]=$(pct 50 < "$TMP/ch"); CH_P95[$n]=$(pct 95 < "$TMP/ch")
	E2E_P50[$n]=$(pct 50 < "$TMP/e2e"); E2E_P95[$n]=$(pct 95 < "$TMP/e2e")
	# warm up, then connections alternate between the two paths (both see the same machine);
	# each figure is the median of the rounds' p50 and p99
	ip netns exec "$P-client" "$ECHO" time -n 200 10.97.0.1 80 "${IP[server]}" 8081 >/dev/null
	: > "$TMP/via"; : > "$TMP/direct"
	for ((r = 0; r < ROUNDS; r++)); do
		ip netns exec "$P-client" "$ECHO" time -n "$CONNS" 10.97.0.1 80 "${IP[server]}" 8081 > "$TMP/round"
		sed -n 1p "$TMP/round" >> "$TMP/via"
		sed -n 2p "$TMP/round" >> "$TMP/direct"
	done
	LAT[$n,via]="$(awk '{print $1}' "$TMP/via" | pct 50) $(awk '{print $3}' "$TMP/via" | pct 50)"
	LAT[$n,direct]="$(awk '{print $1}' "$TMP/direct" | pct 50) $(awk '{print $3}' "$TMP/direct" | pct 50)"
	RSS[$n]=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
	kill "$pid"; wait "$pid" 2>/dev/null || true
	ip netns exec "$NODE" "$BIN/podnet-proxy" --cleanup
	echo "proxy.sh: $n Services done" >&2
done

echo "## podnet-proxy benchmark"
echo
echo "- nproc: $(nproc), kernel: $(uname -r); Services x 10 endpoints, IPv4, 100 Services per manifest file"
echo "- cold start = the first full sync as the daemon measures it (every chunk and the swap); ready = exec to /healthz 200, reading and parsing the manifests included"
echo "- one change = one endpoint of one Service replaced ($CHANGES times): the daemon's sync, and end to end from the rename of the edited file (100 Services) to the daemon's log line"
echo "- latency = connect, first answer, close from a pod to a pod on the same node, through the ClusterIP and straight to the pod, one connection of each in turn: $ROUNDS rounds of $CONNS connections per path (after a warm-up), the median of the rounds' p50 and p99"
echo
echo "| Services | cold start ms | ready ms | one change: sync p50 / p95 ms | one change: end to end p50 / p95 ms | peak RSS MiB | connect via ClusterIP p50 / p99 µs | direct p50 / p99 µs |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	read -r v50 v99 <<<"${LAT[$n,via]}"; read -r d50 d99 <<<"${LAT[$n,direct]}"
	echo "| $n | ${COLD[$n]} | ${READY[$n]} | ${CH_P50[$n]} / ${CH_P95[$n]} | ${E2E_P50[$n]} / ${E2E_P95[$n]} | ${RSS[$n]} | $v50 / $v99 | $d50 / $d99 |"
done
echo
for n in $SIZES; do
	read -r v50 v99 <<<"${LAT[$n,via]}"; read -r d50 d99 <<<"${LAT[$n,direct]}"
	awk -v n="$n" -v v="$v50" -v d="$d50" 'BEGIN { printf "- %d Services: ClusterIP connect p50 is %+.1f %% of direct\n", n, (v / d - 1) * 100 }'
done
set -- $SIZES
if (($# > 1)); then
	awk -v a="${CH_P50[${!#}]}" -v b="${CH_P50[$1]}" -v hi="${!#}" -v lo="$1" \
		'BEGIN { printf "- one change, sync p50 at %d vs %d Services: %.2fx\n", hi, lo, a / b }'
fi
