# SPDX-License-Identifier: Apache-2.0
# Shared by the netns tests: a per-run prefix for every netns and link, a cleanup
# trap, and TAP-style assertions ("ok - name" / "not ok - name") that tests/run-all counts.
#
# Nothing here touches the root netns: tests create their own with `ip netns add`.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
JSON=$TOP/$BUILD/tests/pn-json
REF=${REF_CNI_DIR:-/usr/lib/cni}
# short: link names are at most 15 characters
P=pn$(printf '%04x' $(( $$ % 65536 )))
TMP=$(mktemp -d /tmp/podnet-test.XXXXXX)
FAILS=0
CLEANUPS=()

cleanup() {
	local i
	for (( i=${#CLEANUPS[@]}-1; i>=0; i-- )); do eval "${CLEANUPS[i]}" >/dev/null 2>&1 || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# at_exit CMD: run CMD (a string) on exit, latest first
at_exit() { CLEANUPS+=("$1"); }

netns_add() { ip netns add "$1" && at_exit "ip netns del '$1'"; }

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

# expect NAME GOT WANT
expect() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
# expect_match NAME GOT REGEX
expect_match() {
	if [[ "$2" =~ $3 ]]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: /$3/"; fi
}
# expect_true NAME CMD...
expect_true() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "#   failed: $*"; sed 's/^/#   /' <<<"$out"; fi
}

# cni PLUGIN COMMAND CONTAINERID [ENV=VALUE...] < conf: runs a plugin the way a runtime
# does (inside the node netns when NODE is set); stdout in $OUT, exit status in $RC.
cni() {
	local plugin=$1 cmd=$2 id=$3; shift 3
	local -a pre=()
	[[ -n "${NODE:-}" ]] && pre=(ip netns exec "$NODE")
	OUT=$("${pre[@]}" env CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="${CNI_NETNS_PATH-/run/netns/none}" \
		CNI_IFNAME="${IFNAME:-eth0}" CNI_PATH="${CNI_PATH_DIRS:-$BIN:$REF}" "$@" "$plugin" 2>"$TMP/stderr")
	RC=$?
}

finish() {
	[[ $FAILS -eq 0 ]]
}
