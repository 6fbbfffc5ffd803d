#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-local run as a runtime runs it: exec'd inside a node netns with CNI_NETNS
# naming a pod netns.  Checks results, files on disk, interop with the reference
# plugin on one dataDir, hostile input, concurrency, CHECK, GC and STATUS.
#
#   [node netns]  build/bin/host-local, /usr/lib/cni/host-local  -> $TMP/data/<net>/
#   [pod netns]   named by CNI_NETNS (host-local does not enter it)
source "$(dirname "$0")/lib.sh"

NODE=$P-node
netns_add "$NODE"
netns_add "$P-pod"
CNI_NETNS_PATH=/run/netns/$P-pod
DATA=$TMP/data
OURS=$BIN/host-local
THEIRS=$REF/host-local

# conf NET VERSION RANGES [EXTRA_IPAM_KEYS]
conf() {
	printf '{"cniVersion":"%s","name":"%s","ipam":{"type":"host-local","dataDir":"%s","ranges":%s%s}}' \
		"$2" "$1" "$DATA" "$3" "${4:+,$4}"
}
V4='[[{"subnet":"10.1.2.0/24"}]]'
DUAL='[[{"subnet":"10.1.2.0/24"}],[{"subnet":"2001:db8:1::/64"}]]'
files() { (cd "$DATA/$1" 2>/dev/null && ls | grep -v -e '^lock$' -e '^last_reserved_ip' | sort | tr '\n' ' '); }

# --- results and files -------------------------------------------------------------
cni "$OURS" ADD c1 < <(conf n1 1.0.0 "$DUAL" '"routes":[{"dst":"0.0.0.0/0"}]')
expect "ADD succeeds" "$RC" 0
expect "ADD v4 address" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.2/24"
expect "ADD v4 gateway" "$($JSON ips.0.gateway <<<"$OUT")" "10.1.2.1"
expect "ADD v6 address" "$($JSON ips.1.address <<<"$OUT")" "2001:db8:1::2/64"
expect "ADD routes passed through" "$($JSON routes <<<"$OUT")" '[{"dst":"0.0.0.0/0"}]'
expect "ADD 1.0.0 prints dns {}" "$($JSON dns <<<"$OUT")" '{}'
expect "reservation file holds id CRLF ifname" "$(od -An -c "$DATA/n1/10.1.2.2" | tr -s ' ')" " c 1 \r \n e t h 0"
expect "last_reserved_ip.0" "$(cat "$DATA/n1/last_reserved_ip.0")" "10.1.2.2"
expect "last_reserved_ip.1" "$(cat "$DATA/n1/last_reserved_ip.1")" "2001:db8:1::2"
expect "reservation mode 0600" "$(stat -c %a "$DATA/n1/10.1.2.2")" 600
cni "$OURS" CHECK c1 < <(conf n1 1.0.0 "$DUAL")
expect "CHECK after ADD" "$RC" 0
cni "$OURS" ADD c1 < <(conf n1 1.0.0 "$DUAL")
expect "second ADD of one attachment fails" "$RC" 1
expect "second ADD says duplicate" "$($JSON msg <<<"$OUT")" \
	"failed to allocate for range 0: 10.1.2.2 has been allocated to c1, duplicate allocation is not allowed"
IFNAME=eth1 cni "$OURS" ADD c1 < <(conf n1 1.0.0 "$DUAL")
expect "another ifname of the same container gets its own address" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.3/24"
cni "$OURS" DEL c1 < <(conf n1 1.0.0 "$DUAL")
expect "DEL succeeds with no output" "$RC:$OUT" "0:"
expect "DEL removes only that ifname's files" "$(files n1)" "10.1.2.3 2001:db8:1::3 "
cni "$OURS" DEL c1 < <(conf n1 1.0.0 "$DUAL")
expect "DEL again is fine" "$RC" 0
cni "$OURS" CHECK c1 < <(conf n1 1.0.0 "$DUAL")
expect "CHECK after DEL fails" "$($JSON msg <<<"$OUT")" "host-local: Failed to find address added by container c1"
cni "$OURS" ADD c2 < <(conf n1 0.3.1 "$DUAL")
expect "0.3.1 result carries version" "$($JSON ips.1.version <<<"$OUT")" "6"
expect "round-robin continues after the last reserved address" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.4/24"
cni "$OURS" ADD c3 < <(conf n1 0.2.0 "$DUAL")
expect "0.2.0 result has ip4" "$($JSON ip4.ip <<<"$OUT")" "10.1.2.5/24"

# requested addresses, resolvConf
printf 'nameserver 192.0.2.53\n# comment\nsearch a.example b.example\ndomain example\noptions ndots:2\n' > "$TMP/resolv.conf"
cni "$OURS" ADD r1 CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.1.2.77" < <(conf n2 1.0.0 "$V4" "\"resolvConf\":\"$TMP/resolv.conf\"")
expect "CNI_ARGS IP= is honoured" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.77/24"
expect "resolvConf nameservers" "$($JSON dns.nameservers <<<"$OUT")" '["192.0.2.53"]'
expect "resolvConf search" "$($JSON dns.search <<<"$OUT")" '["a.example","b.example"]'
cni "$OURS" ADD r2 < <(printf '{"cniVersion":"1.0.0","name":"n2","runtimeConfig":{"ips":["10.1.2.88/24"]},"ipam":{"type":"host-local","dataDir":"%s","ranges":%s}}' "$DATA" "$V4")
expect "runtimeConfig.ips is honoured" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.88/24"
cni "$OURS" ADD r3 CNI_ARGS="IP=10.1.2.77" < <(conf n2 1.0.0 "$V4")
expect "a taken requested address is refused" "$($JSON msg <<<"$OUT")" \
	"failed to allocate for range 0: requested IP address 10.1.2.77 is not available in range set 10.1.2.1-10.1.2.254"
cni "$OURS" ADD r3 CNI_ARGS="IP=10.9.9.9" < <(conf n2 1.0.0 "$V4")
expect "an unusable requested address fails the ADD" "$($JSON msg <<<"$OUT")" "failed to allocate all requested IPs: 10.9.9.9"
expect "and leaves nothing behind" "$(files n2)" "10.1.2.77 10.1.2.88 "

# --- interop with the reference on one dataDir ------------------------------------
cni "$THEIRS" ADD x1 < <(conf ix 1.0.0 "$DUAL")
expect "reference ADD" "$RC:$($JSON ips.0.address <<<"$OUT")" "0:10.1.2.2/24"
cni "$OURS" ADD x2 < <(conf ix 1.0.0 "$DUAL")
expect "ours continues after the reference's last_reserved_ip" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.3/24"
cni "$THEIRS" ADD x3 < <(conf ix 1.0.0 "$DUAL")
expect "reference continues after ours" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.4/24"
cni "$OURS" ADD x3 < <(conf ix 1.0.0 "$DUAL")
expect "ours sees the reference's reservation as a duplicate" "$($JSON msg <<<"$OUT")" \
	"failed to allocate for range 0: 10.1.2.4 has been allocated to x3, duplicate allocation is not allowed"
cni "$THEIRS" ADD x2 < <(conf ix 1.0.0 "$DUAL")
expect "the reference sees ours as a duplicate" "$($JSON msg <<<"$OUT")" \
	"failed to allocate for range 0: 10.1.2.3 has been allocated to x2, duplicate allocation is not allowed"
cni "$THEIRS" CHECK x2 < <(conf ix 1.0.0 "$DUAL")
expect "reference CHECK of our attachment" "$RC" 0
cni "$OURS" CHECK x1 < <(conf ix 1.0.0 "$DUAL")
expect "our CHECK of the reference's attachment" "$RC" 0
cni "$OURS" DEL x1 < <(conf ix 1.0.0 "$DUAL")
cni "$THEIRS" DEL x2 < <(conf ix 1.0.0 "$DUAL")
expect "each DELs the other's reservations" "$(files ix)" "10.1.2.4 2001:db8:1::4 "
cni "$OURS" ADD x2 < <(conf ix 1.0.0 "$DUAL")
expect "ours does not trust a stale index entry after the reference's DEL" "$($JSON ips.0.address <<<"$OUT")" "10.1.2.5/24"
# a legacy reservation as host-local before 0.7 wrote it: the container ID alone
printf 'x9' > "$DATA/ix/10.1.2.9" && printf '10.1.2.9' > "$DATA/ix/last_reserved_ip.0"
cni "$OURS" DEL x9 < <(conf ix 1.0.0 "$DUAL")
expect "legacy id-only files are released" "$(files ix)" "10.1.2.4 10.1.2.5 2001:db8:1::4 2001:db8:1::5 "

# the same sequence gives the same files, contents and results from either implementation
for impl in "$OURS" "$THEIRS"; do
	DATA=$TMP/same-$(basename "$(dirname "$impl")")
	out=""
	for id in s1 s2 s3; do cni "$impl" ADD "$id" < <(conf same 1.0.0 "$DUAL" '"routes":[{"dst":"0.0.0.0/0"}]'); out+=$OUT; done
	cni "$impl" DEL s2 < <(conf same 1.0.0 "$DUAL")
	cni "$impl" ADD s4 < <(conf same 1.0.0 "$DUAL" '"routes":[{"dst":"0.0.0.0/0"}]'); out+=$OUT
	(cd "$DATA/same" && for f in $(ls | sort); do printf '%s=' "$f"; cat "$f"; echo; done) > "$TMP/state-$(basename "$(dirname "$impl")")"
	echo "$out" > "$TMP/results-$(basename "$(dirname "$impl")")"
done
DATA=$TMP/data
expect_true "same files and contents as the reference" cmp -s "$TMP/state-bin" "$TMP/state-cni"
expect_true "same results as the reference, byte for byte" cmp -s "$TMP/results-bin" "$TMP/results-cni"

# --- hostile input: a CNI error, no crash, nothing on disk -------------------------
hostile() {  # NAME EXPECTED_CODE < input
	local name=$1 want=$2 before after
	before=$(find "$TMP" -path "$TMP/stderr" -prune -o -print | sort | md5sum)
	cni "$OURS" ADD h1 "${@:3}"
	after=$(find "$TMP" -path "$TMP/stderr" -prune -o -print | sort | md5sum)
	if [[ $RC -eq 1 && "$($JSON code <<<"$OUT")" == "$want" && -n "$($JSON msg <<<"$OUT")" && "$before" == "$after" ]]; then
		ok "hostile: $name -> code $want"
	else
		not_ok "hostile: $name (rc $RC, stdout ${OUT:0:300})"
	fi
}
hostile "empty stdin" 6 < /dev/null
hostile "malformed JSON" 6 <<<'{"cniVersion":"1.0.0","name":"h",'
hostile "truncated JSON" 6 < <(conf h 1.0.0 "$V4" | head -c 60)
hostile "not an object" 6 <<<'"hello"'
hostile "binary garbage" 6 < <(head -c 4096 /dev/urandom)
hostile "name not a string" 6 <<<'{"cniVersion":"1.0.0","name":["h"]}'
hostile "missing name" 7 <<<'{"cniVersion":"1.0.0","ipam":{}}'
hostile "network name with /" 7 < <(conf "a/b" 1.0.0 "$V4")
hostile "network name .." 7 < <(conf ".." 1.0.0 "$V4")
hostile "unknown cniVersion" 1 < <(conf h 9.9.9 "$V4")
hostile "cniVersion of the wrong type" 6 <<<'{"cniVersion":1,"name":"h","ipam":{}}'
hostile "missing ipam" 999 <<<'{"cniVersion":"1.0.0","name":"h"}'
hostile "ipam of the wrong type" 999 <<<'{"cniVersion":"1.0.0","name":"h","ipam":"host-local"}'
hostile "ranges of the wrong type" 999 < <(conf h 1.0.0 '"10.0.0.0/8"')
hostile "subnet of the wrong type" 999 < <(conf h 1.0.0 '[[{"subnet":10}]]')
hostile "dataDir of the wrong type" 999 <<<'{"cniVersion":"1.0.0","name":"h","ipam":{"dataDir":[],"ranges":[[{"subnet":"10.0.0.0/24"}]]}}'
hostile "bad CIDR" 999 < <(conf h 1.0.0 '[[{"subnet":"10.0.0.0/33"}]]')
hostile "CIDR with host bits" 999 < <(conf h 1.0.0 '[[{"subnet":"10.0.0.1/24"}]]')
hostile "not a CIDR" 999 < <(conf h 1.0.0 '[[{"subnet":"banana"}]]')
hostile "too small a subnet" 999 < <(conf h 1.0.0 '[[{"subnet":"10.0.0.0/31"}]]')
hostile "bad route" 999 < <(conf h 1.0.0 "$V4" '"routes":[{"dst":"nowhere"}]')
hostile "missing resolvConf" 999 < <(conf h 1.0.0 "$V4" '"resolvConf":"/nonexistent/resolv.conf"')
hostile "bad CNI_ARGS" 999 CNI_ARGS="IP" < <(conf h 1.0.0 "$V4")
hostile "unknown CNI_ARGS" 999 CNI_ARGS="FOO=bar" < <(conf h 1.0.0 "$V4")
hostile "20 MB of input" 6 < <(conf h 1.0.0 "$V4" "\"pad\":\"$(head -c 20000000 /dev/zero | tr '\0' a)\"")
hostile "deep nesting" 6 < <(printf '{"cniVersion":"1.0.0","name":"h","x":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; echo '}')
cni "$OURS" ADD e1 < <(conf ex 1.0.0 '[[{"subnet":"10.3.0.0/30"}]]')
expect "a /30 has one address besides the gateway" "$($JSON ips.0.address <<<"$OUT")" "10.3.0.2/30"
hostile "exhausted range" 999 < <(conf ex 1.0.0 '[[{"subnet":"10.3.0.0/30"}]]')
expect "exhausted range message" "$($JSON msg <<<"$OUT")" "failed to allocate for range 0: no IP addresses available in range set: 10.3.0.1-10.3.0.2"
hostile "second set exhausted releases the first" 999 < <(conf ex 1.0.0 '[[{"subnet":"10.4.0.0/24"}],[{"subnet":"10.3.0.0/30"}]]')
CNI_NETNS_PATH="" cni "$OURS" ADD h1 < <(conf h 1.0.0 "$V4")
expect "missing CNI_NETNS is an env error" "$RC:$($JSON code <<<"$OUT")" "1:4"

# --- STATUS and GC ------------------------------------------------------------------
cni "$OURS" STATUS "" < <(conf ex 1.1.0 '[[{"subnet":"10.3.0.0/30"}]]')
expect "STATUS of an exhausted network: code 50" "$RC:$($JSON code <<<"$OUT")" "1:50"
cni "$OURS" DEL e1 < <(conf ex 1.1.0 '[[{"subnet":"10.3.0.0/30"}]]')
cni "$OURS" STATUS "" < <(conf ex 1.1.0 '[[{"subnet":"10.3.0.0/30"}]]')
expect "STATUS with room: success, no output" "$RC:$OUT" "0:"
for id in g1 g2 g3; do cni "$OURS" ADD $id < <(conf gc 1.1.0 "$DUAL"); done
cni "$THEIRS" ADD g4 < <(conf gc 1.0.0 "$DUAL")
printf 'g5' > "$DATA/gc/10.1.2.50" && printf '10.1.2.50' > "$DATA/gc/last_reserved_ip.0"
gc_conf() { printf '{"cniVersion":"1.1.0","name":"gc","cni.dev/valid-attachments":%s,"ipam":{"type":"host-local","dataDir":"%s","ranges":%s}}' "$1" "$DATA" "$DUAL"; }
cni "$OURS" GC "" < <(gc_conf '[{"containerID":"g1","ifname":"eth0"},{"containerID":"g4","ifname":"eth0"},{"containerID":"g5","ifname":"eth9"}]')
expect "GC succeeds" "$RC:$OUT" "0:"
expect "GC keeps valid attachments, ours, the reference's and legacy" "$(files gc)" "10.1.2.2 10.1.2.5 10.1.2.50 2001:db8:1::2 2001:db8:1::5 "
cni "$OURS" ADD g3 < <(conf gc 1.1.0 "$DUAL")
expect "a collected attachment can be added again" "$RC" 0
cni "$OURS" GC "" < <(printf '{"cniVersion":"1.1.0","name":"gc","ipam":{"type":"host-local","dataDir":"%s","ranges":%s}}' "$DATA" "$DUAL")
expect "GC without valid-attachments refuses" "$RC" 1
expect "and removes nothing" "$(files gc | wc -w)" 7
cni "$OURS" GC "" < <(gc_conf '[]')
expect "GC with no valid attachment empties the network" "$(files gc)" ""
cni "$OURS" GC "" < <(gc_conf '[]' | sed 's/1.1.0/1.0.0/')
expect "GC needs cniVersion 1.1.0" "$($JSON msg <<<"$OUT")" "config version does not allow GC"

# DEL still releases when the config has become invalid
cni "$OURS" ADD d1 < <(conf dl 1.0.0 "$V4")
cni "$OURS" DEL d1 < <(conf dl 1.0.0 '[[{"subnet":"10.1.2.0/33"}]]')
expect "DEL with a broken config reports it" "$RC:$($JSON code <<<"$OUT")" "1:999"
expect "but releases the address" "$(files dl)" ""

# --- 64 parallel ADDs, then 64 parallel DELs ---------------------------------------
for i in $(seq 1 64); do
	( cni "$OURS" ADD "p$i" < <(conf par 1.0.0 "$DUAL"); echo "$RC $($JSON ips.0.address <<<"$OUT") $($JSON ips.1.address <<<"$OUT")" > "$TMP/par.$i" ) &
done
wait
expect "64 parallel ADDs succeed" "$(cat "$TMP"/par.* | awk '$1==0' | wc -l)" 64
expect "64 distinct IPv4 addresses" "$(cat "$TMP"/par.* | awk '{print $2}' | sort -u | wc -l)" 64
expect "64 distinct IPv6 addresses" "$(cat "$TMP"/par.* | awk '{print $3}' | sort -u | wc -l)" 64
expect "128 reservation files" "$(files par | wc -w)" 128
for i in $(seq 1 64); do ( cni "$OURS" DEL "p$i" < <(conf par 1.0.0 "$DUAL"); echo "$RC" > "$TMP/pdel.$i" ) & done
wait
expect "64 parallel DELs succeed" "$(cat "$TMP"/pdel.* | grep -c '^0$')" 64
expect "no reservation left" "$(files par)" ""

finish
