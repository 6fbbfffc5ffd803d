#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark bridge (+ host-local) ADD/DEL: ours vs the reference Go plugins with the same
# config, ipMasq off and on, with 1 and with 250 pods already on the bridge, plus the
# kernel's floor (a veth pair created and deleted over netlink), all in one run.
# Everything happens in netns of its own, each row on a fresh node; no traffic at all.
# Run from the repo root after `make` (or via `make bench`).
# Env: BENCH_RUNS (default 100), BENCH_SIZES (default "1 250"), BENCH_SETTLE (s, default 5).
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/bin
REF=${REF_CNI_DIR:-/usr/lib/cni}
RUNS=${BENCH_RUNS:-100}
SIZES=${BENCH_SIZES:-"1 250"}
P=pnbb$$
TMP=$(mktemp -d /tmp/pn-bench-bridge.XXXXXX)
cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
for f in "$BIN/bridge" "$BIN/host-local" "$BIN/pn-bench" "$REF/bridge" "$REF/host-local"; do
	[[ -x $f ]] || { echo "bridge.sh: $f missing (run make, scripts/install-deps)" >&2; exit 1; }
done

mkpods() {  # PREFIX N: netns PREFIX0 .. PREFIX(N-1)
	for ((i = 0; i < $2; i++)); do ip netns add "$1$i"; done
}
declare -A P50 P95 RSS
row() {  # IMPL MASQ SIZE
	local impl=$1 masq=$2 n=$3 dir=$TMP/$1-$2-$3 node=$P-node plugins
	plugins=$BIN; [[ $impl == ref ]] && plugins=$REF
	mkdir -p "$dir"
	ip netns add "$node"
	ip -n "$node" link set lo up
	cat > "$dir/conf.json" <<JSON
{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":$masq,
 "ipam":{"type":"host-local","dataDir":"$dir/data","ranges":[[{"subnet":"10.200.0.0/16"}]],"routes":[{"dst":"0.0.0.0/0"}]}}
JSON
	mkpods "$P-pre" "$n"
	mkpods "$P-run" "$RUNS"
	ip netns exec "$node" env CNI_IFNAME=eth0 CNI_PATH="$plugins" "$BIN/pn-bench" --plugin "$plugins/bridge" \
		--conf "$dir/conf.json" --runs "$n" --add-only --prefix pre --netns-prefix "/run/netns/$P-pre" >/dev/null
	[[ $(ip -n "$node" -o link show type veth | wc -l) -eq $n ]] || { echo "bridge.sh: $impl: pre-populating failed" >&2; exit 1; }
	sync; sleep "${BENCH_SETTLE:-5}"
	while read -r _ op p50 p95 rss; do
		P50[$impl,$masq,$n,$op]=$p50 P95[$impl,$masq,$n,$op]=$p95 RSS[$impl,$masq,$n,$op]=$rss
	done < <(ip netns exec "$node" env CNI_IFNAME=eth0 CNI_PATH="$plugins" "$BIN/pn-bench" --plugin "$plugins/bridge" \
		--conf "$dir/conf.json" --runs "$RUNS" --prefix run --netns-prefix "/run/netns/$P-run" --label "$impl")
	# DEL really cleaned: only the pre-populated pods' veths and reservations are left
	[[ $(ip -n "$node" -o link show type veth | wc -l) -eq $n ]] || { echo "bridge.sh: $impl: DEL left veths" >&2; exit 1; }
	[[ $(ls "$dir/data/bench" | grep -c '^10\.') -eq $n ]] || { echo "bridge.sh: $impl: DEL left reservations" >&2; exit 1; }
	cleanup_row
}
cleanup_row() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
}

for impl in ours ref; do
	for masq in false true; do
		for n in $SIZES; do row "$impl" "$masq" "$n"; done
	done
done
ip netns add "$P-floor"
FLOOR=$("$BIN/pn-bench" --floor-veth "/run/netns/$P-floor" --runs "$RUNS" --label floor)

echo "## bridge benchmark"
echo
echo "- nproc: $(nproc), kernel: $(uname -r)"
echo "- reference: $REF/bridge + host-local, containernetworking-plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?') (ipMasq through iptables $(iptables -V 2>/dev/null | awk '{print $2, $3}'))"
echo "- per row: a fresh node netns, N pods already on the bridge, then $RUNS ADDs and $RUNS DELs as a runtime runs them (fork+exec+wait inside the node netns, host-local as IPAM); peak RSS = largest ru_maxrss of the plugin processes"
echo "- kernel floor, a veth pair created (one end in a pod netns) and deleted over netlink: p50 $(awk '{print $3}' <<<"$FLOOR") ms, p95 $(awk '{print $4}' <<<"$FLOOR") ms"
echo
echo "| implementation | ipMasq | pods on the bridge | op | p50 ms | p95 ms | peak RSS MiB |"
echo "|---|---|---:|---|---:|---:|---:|"
for impl in ours ref; do
	for masq in false true; do
		for n in $SIZES; do
			for op in ADD DEL; do
				printf '| %s | %s | %d | %s | %.2f | %.2f | %.2f |\n' "$impl" "$masq" "$n" "$op" \
					"${P50[$impl,$masq,$n,$op]}" "${P95[$impl,$masq,$n,$op]}" \
					"$(awk -v k="${RSS[$impl,$masq,$n,$op]}" 'BEGIN { printf "%.2f", k / 1024 }')"
			done
		done
	done
done
echo
echo "Speed-up (reference / ours, p50):"
echo
for masq in false true; do
	for n in $SIZES; do
		for op in ADD DEL; do
			awk -v r="${P50[ref,$masq,$n,$op]}" -v o="${P50[ours,$masq,$n,$op]}" -v m="$masq" -v n="$n" -v op="$op" \
				'BEGIN { printf "- %s, ipMasq %s, %d pods: %.1fx\n", op, m, n, r / o }'
		done
	done
done
