#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark host-local ADD/DEL: ours (build/bin/host-local) vs the reference Go plugin, with 0 and
# 3000 existing reservations.  Only writes files under a temp dir; never touches the network.
# Run from the repo root after `make` (or via `make bench`).  Env: BENCH_RUNS (default 200),
# BENCH_SIZES (default "0 3000"), BUILD (default build), REF (default /usr/lib/cni/host-local).
set -euo pipefail

BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-200}
SIZES=${BENCH_SIZES:-"0 3000"}
OURS=$BUILD/bin/host-local
REF=${REF:-/usr/lib/cni/host-local}
BENCH=$BUILD/bin/pn-bench

for f in "$OURS" "$BENCH" "$REF"; do
	[[ -x $f ]] || { echo "host-local.sh: $f missing (run make first)" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pn-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

export CNI_NETNS=/var/run/netns/bench-none CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni
unset CNI_ARGS CNI_COMMAND CNI_CONTAINERID

# number of reservation files (named after an IPv4 address) in a network dir
count() { local d=$1 c=0 f; [[ -d $d ]] && for f in "$d"/10.*; do [[ -e $f ]] && c=$((c + 1)); done; echo "$c"; }

declare -A P50 P95 RSS
impls=(ours ref)
declare -A BIN=([ours]=$OURS [ref]=$REF)

for impl in "${impls[@]}"; do
	for n in $SIZES; do
		dir=$TMP/$impl-$n
		mkdir -p "$dir/data"
		cat >"$dir/conf.json" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "bench",
  "type": "host-local",
  "ipam": {
    "type": "host-local",
    "ranges": [[{ "subnet": "10.128.0.0/16" }]],
    "dataDir": "$dir/data"
  }
}
EOF
		if ((n > 0)); then
			"$BENCH" --plugin "${BIN[$impl]}" --conf "$dir/conf.json" --runs "$n" \
				--prefix pre- --add-only --label "pre-$impl-$n" >/dev/null
		fi
		# let writeback and the journal (and discards of the last row's rm) settle first:
		# measured here, a row right after a mass rm runs up to 2x slower for ~20 s
		sync; sleep "${BENCH_SETTLE:-10}"
		before=$(count "$dir/data/bench")
		[[ $before -eq $n ]] || { echo "host-local.sh: $impl: $before reservations, want $n" >&2; exit 1; }

		while read -r _ op p50 p95 rss; do
			P50[$impl,$n,$op]=$p50 P95[$impl,$n,$op]=$p95 RSS[$impl,$n,$op]=$rss
		done < <("$BENCH" --plugin "${BIN[$impl]}" --conf "$dir/conf.json" --runs "$RUNS" \
			--prefix bench- --label "$impl-$n")
		[[ -n ${P50[$impl,$n,DEL]:-} ]] || { echo "host-local.sh: $impl-$n: pn-bench failed" >&2; exit 1; }

		after=$(count "$dir/data/bench")
		[[ $after -eq $n ]] || { echo "host-local.sh: $impl: $after reservations after DEL, want $n" >&2; exit 1; }
		rm -rf "$dir"
	done
done

# the floor under every row: fork + exec + wait of a static program that does nothing
floor=$("$BENCH" --plugin "$BUILD/bin/pn-empty" --conf /dev/null --runs "$RUNS" --add-only --label floor)

echo "## host-local benchmark"
echo
echo "- nproc: $(nproc), kernel: $(uname -r)"
echo "- reference: $REF, containernetworking-plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?')"
echo "- $RUNS ADD then $RUNS DEL per row; wall time per fork+exec+wait, peak RSS = max ru_maxrss of the children"
echo "- floor: fork+exec+wait of an empty static program: p50 $(awk '{print $3}' <<<"$floor") ms, p95 $(awk '{print $4}' <<<"$floor") ms"
echo
echo "| implementation | existing reservations | op | p50 ms | p95 ms | peak RSS MiB |"
echo "|---|---:|---|---:|---:|---:|"
for impl in "${impls[@]}"; do
	for n in $SIZES; do
		for op in ADD DEL; do
			printf '| %s | %d | %s | %.3f | %.3f | %.2f |\n' "$impl" "$n" "$op" \
				"${P50[$impl,$n,$op]}" "${P95[$impl,$n,$op]}" \
				"$(awk -v k="${RSS[$impl,$n,$op]}" 'BEGIN { printf "%.2f", k / 1024 }')"
		done
	done
done
echo
echo "### speed-up (reference / ours, p50)"
echo
for n in $SIZES; do
	for op in ADD DEL; do
		awk -v r="${P50[ref,$n,$op]}" -v o="${P50[ours,$n,$op]}" -v n="$n" -v op="$op" \
			'BEGIN { printf "- %s at %d existing reservations: %.1fx\n", op, n, r / o }'
	done
done
