#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark bridge (+ host-local) ADD/DEL: ours (build/bin) vs the reference Go plugins
# (/usr/lib/cni) with the same config, ipMasq off and on, with 1 and with 250 pods already on
# the bridge, plus the kernel's floor (a veth pair created and deleted over netlink), in one run.
#
# One node netns, pods' netns made up front, all named <prefix>-* with a per-run prefix and all
# removed by the EXIT trap; the machine's own netns is never touched and no packet is sent.
# Each implementation has its own bridge and dataDir; per (implementation, ipMasq) the pods
# already on the bridge are ADDed by that same implementation and config (not measured), grown
# from one size to the next, and DELed again afterwards.  Measured: BENCH_RUNS ADDs into fresh
# pod netns, then BENCH_RUNS DELs, by build/bin/pn-bench run inside the node netns the way a
# runtime runs a plugin (fork+exec, config on stdin).  After every step: bridge ports, host veths,
# reservation files and the pods' masquerade entries (nft and iptables, by container ID) are
# counted, and the script stops loudly on any mismatch.
#
# Run as root from the repo root after `make` (or via `make bench`).  Env: BENCH_RUNS (default
# 100), BENCH_SIZES (default "1 250"), BENCH_SETTLE (seconds of sync+sleep before every measured
# row, default 5), BUILD (default build), REF_CNI_DIR (default /usr/lib/cni), BENCH_POD_IPV6
# (default on; off: IPv6 disabled in every pod netns before its ADD).
set -euo pipefail

BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/bin
REF=${REF_CNI_DIR:-/usr/lib/cni}
RUNS=${BENCH_RUNS:-100}
SIZES=$(tr ' ' '\n' <<<"${BENCH_SIZES:-1 250}" | grep . | sort -n -u | tr '\n' ' ')
SETTLE=${BENCH_SETTLE:-5}
POD_IPV6=${BENCH_POD_IPV6:-on}
BENCH=$BIN/pn-bench
P=pnbr$$
NODE=$P-node
T0=$SECONDS

die() { echo "bridge.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"
for f in "$BIN/bridge" "$BIN/host-local" "$BENCH" "$BIN/pn-empty" "$REF/bridge" "$REF/host-local"; do
	[[ -x $f ]] || die "$f missing (run make; the reference comes from containernetworking-plugins)"
done
command -v iptables >/dev/null || die "the reference's ipMasq needs iptables"
MAXN=0
for n in $SIZES; do [[ $n =~ ^[0-9]+$ ]] || die "bad BENCH_SIZES"; MAXN=$n; done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_RUNS"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pn-bench-bridge.XXXXXX")
cleanup() {
	local ns
	trap - EXIT INT TERM HUP
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-" || true); do
		ip netns del "$ns" 2>/dev/null || echo "bridge.sh: could not remove netns $ns" >&2
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- netns: the node, the pods already on the bridge, the measured pods, the floor's pod -------------
ip netns add "$NODE"
ip -n "$NODE" link set lo up
for ((i = 0; i < MAXN; i++)); do ip netns add "$P-pre-$i"; done
for ((i = 0; i < RUNS; i++)); do ip netns add "$P-run-$i"; done
# BENCH_POD_IPV6=off: no IPv6 in the pods' netns, to see what their IPv6 start-up costs the node
if [[ $POD_IPV6 == off ]]; then
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-(pre|run)-"); do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
fi
ip netns add "$P-floor"

declare -A BR=([ours]=pnb-ours [ref]=pnb-ref) PLUGINS=([ours]=$BIN [ref]=$REF)
declare -A P50 P95 RSS PORTFLOOR

# pn-bench inside the node netns, as a runtime runs the plugin there: IMPL CONF ARGS...
bench() {
	local impl=$1 conf=$2
	shift 2
	ip netns exec "$NODE" env -u CNI_ARGS -u CNI_NETNS CNI_IFNAME=eth0 CNI_PATH="${PLUGINS[$impl]}" \
		"$BENCH" --plugin "${PLUGINS[$impl]}/bridge" --conf "$conf" "$@"
}
ports() { ip -n "$NODE" -o link show master "$1" 2>/dev/null | wc -l; }
veths() { ip -n "$NODE" -o link show type veth | wc -l; }
reservations() {  # DATADIR: files named after an IPv4 address
	local c=0 f
	for f in "$1"/bench/10.*; do [[ -e $f ]] && c=$((c + 1)); done
	echo "$c"
}
# distinct container IDs with PREFIX that the node's netfilter still mentions (ours: nft map
# elements' comments, reference: iptables-nft chains' comments; both listings, deduplicated)
masq_ids() {
	{ ip netns exec "$NODE" nft list ruleset 2>/dev/null || true; ip netns exec "$NODE" iptables-save 2>/dev/null || true; } |
		grep -oE "id: \\\\?\"?$1[0-9]+" | grep -oE "$1[0-9]+" | sort -u | wc -l || true
}
pods_with_eth0() {  # PREFIX COUNT
	local c=0 i
	for ((i = 0; i < $2; i++)); do ip -n "$P-$1-$i" link show eth0 >/dev/null 2>&1 && c=$((c + 1)); done
	echo "$c"
}
# expect_state WHAT IMPL DATADIR MASQ N: N pods (ids pre-*) on the bridge, none of run-*
expect_state() {
	local what=$1 impl=$2 data=$3 masq=$4 n=$5 got want
	[[ -e /run/netns/$NODE ]] || die "$impl ipMasq=$masq: $what: the node netns $NODE is gone (removed by another process?)"
	got="ports $(ports "${BR[$impl]}") veths $(veths) reservations $(reservations "$data") run-eth0 $(pods_with_eth0 run "$RUNS") run-masq $(masq_ids run-) pre-masq $(masq_ids pre-)"
	want="ports $n veths $n reservations $n run-eth0 0 run-masq 0 pre-masq $([[ $masq == true ]] && echo "$n" || echo 0)"
	[[ $got == "$want" ]] || die "$impl ipMasq=$masq: $what: found [$got], want [$want]"
}
settle() { sync; sleep "$SETTLE"; }

# --- the kernel's floor, first (and again at the end) ---------------------------------------------
floor() {
	ip netns exec "$NODE" "$BENCH" --floor-veth "/run/netns/$P-floor" --node "/run/netns/$NODE" --runs "$RUNS" --label "$1"
}
settle
FLOOR1=$(floor floor1)
# and the process floor: fork+exec+wait of an empty static program, from the same place
EXEC=$(ip netns exec "$NODE" "$BENCH" --plugin "$BIN/pn-empty" --conf /dev/null --runs "$RUNS" --add-only --label exec)

# --- the rows --------------------------------------------------------------------------------------
for impl in ours ref; do
	data=$TMP/$impl-data
	mkdir -p "$data"
	for masq in false true; do
		conf=$TMP/$impl-$masq.json
		cat >"$conf" <<JSON
{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"${BR[$impl]}","isGateway":true,"ipMasq":$masq,"ipam":{"type":"host-local","dataDir":"$data","ranges":[[{"subnet":"10.200.0.0/16"}]],"routes":[{"dst":"0.0.0.0/0"}]}}
JSON
		cur=0
		for n in $SIZES; do
			if ((n > cur)); then
				bench "$impl" "$conf" --runs $((n - cur)) --first "$cur" --add-only --prefix pre- \
					--netns-prefix "/run/netns/$P-pre-" --label "pre-$impl" >/dev/null ||
					die "$impl ipMasq=$masq: ADD of the pods already on the bridge failed (see above)"
				cur=$n
			fi
			expect_state "before the measured ADDs" "$impl" "$data" "$masq" "$n"
			if [[ $impl == ours && $masq == false ]]; then
				# the kernel's part of a bridge ADD with n ports: veth, join, up, oper-up
				PORTFLOOR[$n]=$(ip netns exec "$NODE" "$BENCH" --floor-veth "/run/netns/$P-floor" \
					--node "/run/netns/$NODE" --bridge "${BR[$impl]}" --runs "$RUNS" --label "port$n") ||
					die "the port floor with $n pods failed"
				expect_state "after the port floor" "$impl" "$data" "$masq" "$n"
			fi
			settle
			while read -r _ op p50 p95 rss; do
				P50[$impl,$masq,$n,$op]=$p50 P95[$impl,$masq,$n,$op]=$p95 RSS[$impl,$masq,$n,$op]=$rss
			done < <(bench "$impl" "$conf" --runs "$RUNS" --prefix run- --netns-prefix "/run/netns/$P-run-" \
				--label "$impl" || echo FAILED)
			[[ -n ${P50[$impl,$masq,$n,DEL]:-} ]] || die "$impl ipMasq=$masq with $n pods: pn-bench failed (see above)"
			expect_state "after the measured DELs" "$impl" "$data" "$masq" "$n"
			echo "bridge.sh: $impl ipMasq=$masq pods=$n: ADD p50 ${P50[$impl,$masq,$n,ADD]} ms, DEL p50 ${P50[$impl,$masq,$n,DEL]} ms ($((SECONDS - T0)) s)" >&2
		done
		if ((cur > 0)); then
			bench "$impl" "$conf" --runs "$cur" --del-only --prefix pre- --netns-prefix "/run/netns/$P-pre-" \
				--label "pre-$impl" >/dev/null || die "$impl ipMasq=$masq: DEL of the pods already on the bridge failed"
		fi
		expect_state "after DEL of every pod" "$impl" "$data" "$masq" 0
		[[ $(pods_with_eth0 pre "$MAXN") -eq 0 ]] || die "$impl ipMasq=$masq: a pre-populated pod kept its eth0"
	done
	# the other implementation gets the node without this one's bridge (same gateway address)
	ip -n "$NODE" link del "${BR[$impl]}"
done

settle
FLOOR2=$(floor floor2)

# --- report ----------------------------------------------------------------------------------------
fl() { awk -v op="$2" '$2 == op { printf "p50 %.2f ms, p95 %.2f ms", $3, $4 }' <<<"$1"; }
echo "## bridge benchmark"
echo
echo "- nproc: $(nproc), kernel: $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "- ours: $BIN/bridge + host-local; reference: $REF/bridge + host-local, containernetworking-plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?'), ipMasq through $(iptables -V 2>/dev/null)"
echo "- config: cniVersion 1.0.0, isGateway, IPv4 10.200.0.0/16, default route; each implementation on its own bridge and dataDir in one node netns; IPv6 in the pods' netns: $POD_IPV6"
echo "- per row: N pods already on the bridge (ADDed by the same implementation and config, not measured), then $RUNS ADDs and $RUNS DELs, each into its own pod netns, fork+exec+wait of the plugin inside the node netns (CNI_IFNAME=eth0); peak RSS = largest ru_maxrss of a plugin process including what it waited for (IPAM, iptables); ${SETTLE} s sync+sleep before every row"
echo "- kernel floor (in-process netlink, no exec; eth0 made from a socket in a pod netns with its peer born in the node netns, then deleted by name, $RUNS times):"
echo "  - at the start: create+delete $(fl "$FLOOR1" VETH); create alone $(fl "$FLOOR1" VETH_ADD), delete alone $(fl "$FLOOR1" VETH_DEL)"
echo "  - at the end:   create+delete $(fl "$FLOOR2" VETH); create alone $(fl "$FLOOR2" VETH_ADD), delete alone $(fl "$FLOOR2" VETH_DEL)"
echo "- process floor: fork+exec+wait of an empty static program (pn-empty) in the node netns: $(fl "$EXEC" ADD); ours execs one program per op (bridge, which runs the host-local built with it in-process), the reference two or, with ipMasq, more (iptables)"
echo
echo "| implementation | ipMasq | pods already on the bridge | op | p50 ms | p95 ms | peak RSS MiB |"
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
echo "### speed-up (reference / ours, p50; targets: ADD ≥ 8x, DEL ≥ 2.5x)"
echo
for masq in false true; do
	for n in $SIZES; do
		for op in ADD DEL; do
			awk -v r="${P50[ref,$masq,$n,$op]}" -v o="${P50[ours,$masq,$n,$op]}" -v m="$masq" -v n="$n" -v op="$op" \
				'BEGIN { t = (op == "ADD") ? 8 : 2.5; x = r / o; v = (x >= t) ? "meets" : "below"
					 printf "- %s, ipMasq %s, %d pods: %.1fx (%s the target)\n", op, m, n, x, v }'
		done
	done
done
set -- $SIZES
if (($# > 1)); then
	first=$1 last=${!#}
	echo
	echo "### ours with $last vs $first pods already on the bridge (p50 ratio; target: the same cost)"
	echo
	for masq in false true; do
		for op in ADD DEL; do
			awk -v a="${P50[ours,$masq,$last,$op]}" -v b="${P50[ours,$masq,$first,$op]}" -v m="$masq" -v op="$op" \
				'BEGIN { printf "- %s, ipMasq %s: %.2f ms vs %.2f ms = %.2fx\n", op, m, a, b, a / b }'
		done
	done
	pf() { awk '$2 == "VETH_ADD" { print $3 }' <<<"${PORTFLOOR[$1]}"; }
	echo
	echo "The kernel's part of every ADD, a veth pair made, its host end joined to the bridge and up, eth0 up, until"
	echo "the port is oper-up (pn-bench --floor-veth --bridge, in-process, on ours' bridge before the measured ADDs),"
	echo "p50: $(pf "$first") ms with $first ports, $(pf "$last") ms with $last.  ADD minus that floor:"
	echo
	for masq in false true; do
		awk -v a="${P50[ours,$masq,$last,ADD]}" -v b="${P50[ours,$masq,$first,ADD]}" -v fa="$(pf "$last")" -v fb="$(pf "$first")" -v m="$masq" \
			'BEGIN { printf "- ADD, ipMasq %s: %.2f ms with %d ports vs %.2f ms with %d = %.2fx\n", m, a - fa, '"$last"', b - fb, '"$first"', (a - fa) / (b - fb) }'
	done
fi
echo
echo "(total $((SECONDS - T0)) s)"
