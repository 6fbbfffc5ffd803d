#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vxlan-overlay across three nodes, chained after bridge + host-local and run by libcni
# (the library containerd and CRI-O call plugins through):
#
#            [ fabric netns: bridge "fab" ]          underlay 192.0.2.0/24
#             │             │             │
#     [node a] .1     [node b] .2     [node c] .3    [rogue] .66 (not a peer)
#      cni0 10.244.1.1  10.244.2.1      10.244.3.1
#      ├ pod a1, a2     ├ pod b1, b2    ├ pod c1, c2
#
# Every pod reaches every other over ICMP and TCP; path MTU is underlay - 50; node c
# joins later and node b leaves (reconciled with `vxlan-overlay sync`); VXLAN from a
# non-peer is dropped; the fabric carries UDP 8472 with VNI 1; a rerun changes nothing.
source "$(dirname "$0")/lib.sh"

LIBCNI=$TOP/$BUILD/tests/libcni-client
FAB=$P-fab
"$TOP/tests/clients/libcni/build" "$LIBCNI" >"$TMP/build.log" 2>&1 || { not_ok "libcni client builds"; cat "$TMP/build.log"; exit 1; }
BB=$(command -v busybox) || { not_ok "busybox (Debian busybox-static) is installed"; exit 1; }
mkdir -p "$TMP/bin"
for p in bridge host-local vxlan-overlay; do ln -s "$BIN/$p" "$TMP/bin/$p"; done

netns_add "$FAB"
ip -n "$FAB" link add fab type bridge
ip -n "$FAB" link set fab up
declare -A IP=([a]=192.0.2.1 [b]=192.0.2.2 [c]=192.0.2.3 [rogue]=192.0.2.66) NUM=([a]=1 [b]=2 [c]=3)

# node NAME: a netns on the fabric, default route on its underlay (the overlay's default)
node() {
	local n=$1 ns=$P-$1
	netns_add "$ns"
	ip -n "$FAB" link add "${P}$n" type veth peer name eth0 netns "$ns"
	ip -n "$FAB" link set "${P}$n" master fab up
	ip -n "$ns" addr add "${IP[$n]}/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" route add default dev eth0
}
peers_json() {  # NODES...: the peers file a node agent would keep
	local sep="" n
	printf '{"peers":['
	for n in "$@"; do printf '%s{"nodeIP":"%s","podCIDR":"10.244.%s.0/24"}' "$sep" "${IP[$n]}" "${NUM[$n]}"; sep=,; done
	printf ']}\n'
}
conflist() {  # NODE: bridge + host-local + vxlan-overlay
	local n=$1
	cat <<JSON
{"cniVersion":"1.0.0","name":"overlay","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"mtu":1450,
  "ipam":{"type":"host-local","dataDir":"$TMP/data-$n","ranges":[[{"subnet":"10.244.${NUM[$n]}.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"vxlan-overlay","clusterCIDR":"10.244.0.0/16","peersFile":"$TMP/peers-$n.json"}]}
JSON
}
# pod NODE NAME: ADD through libcni inside the node netns; the address in POD_IP[NAME]
declare -A POD_IP
pod() {
	local n=$1 name=$2 out
	netns_add "$P-$name"
	conflist "$n" > "$TMP/conf-$n.json"
	out=$(ip netns exec "$P-$n" "$LIBCNI" -conflist "$TMP/conf-$n.json" -netns "/run/netns/$P-$name" -id "$name" \
		-ifname eth0 -path "$TMP/bin" -cache "$TMP/cache" add 2>"$TMP/err")
	expect "ADD $name on node $n (bridge, host-local, vxlan-overlay)" "$?" 0 || cat "$TMP/err"
	POD_IP[$name]=$($JSON ips.0.address <<<"$out" | cut -d/ -f1)
	LAST_RESULT=$out
	ip -n "$P-$name" link set lo up
	# a TCP server in every pod: answers its own name
	ip netns exec "$P-$name" timeout 120 "$BB" nc -ll -p 5000 -e /bin/echo "$name" >/dev/null 2>&1 &
	at_exit "kill $! 2>/dev/null"
}
reach_all() {  # PODS...: every pod reaches every other, ICMP and TCP
	local from to fails=0
	for from in "$@"; do
		for to in "$@"; do
			[[ $from == "$to" ]] && continue
			ip netns exec "$P-$from" ping -c 1 -W 2 -q "${POD_IP[$to]}" >/dev/null 2>&1 || { echo "#   ICMP $from -> $to failed"; fails=1; }
			[[ "$(ip netns exec "$P-$from" timeout 3 "$BB" nc -w 2 "${POD_IP[$to]}" 5000 </dev/null 2>/dev/null)" == "$to" ]] ||
				{ echo "#   TCP $from -> $to failed"; fails=1; }
		done
	done
	return $fails
}

node a
node b
for n in a b; do peers_json a b > "$TMP/peers-$n.json"; done
pod a a1
expect "result passes prevResult through: eth0 in the pod" "$($JSON interfaces.2.name <<<"$LAST_RESULT")" eth0
expect "result adds the VXLAN device" "$($JSON interfaces.3.name <<<"$LAST_RESULT")" podnet.1
pod a a2
pod b b1
pod b b2

# --- the device and what flannel would program -----------------------------------------
DEV=$(ip -n "$P-a" -d link show podnet.1)
expect_match "VXLAN id 1, port 8472, learning off, local underlay" "$DEV" 'vxlan id 1 local 192\.0\.2\.1 dev eth0 srcport [0-9]+ [0-9]+ dstport 8472 nolearning'
expect_match "UDP checksum set explicitly (off)" "$DEV" 'noudpcsum'
expect_match "MTU = underlay - 50" "$DEV" 'mtu 1450 '
expect_match "deterministic VTEP MAC from the underlay address" "$DEV" 'link/ether 0e:fe:c0:00:02:01 '
expect_match "the pod CIDR's .0/32 on the device" "$(ip -n "$P-a" -br addr show podnet.1)" '10\.244\.1\.0/32'
expect "neighbour: peer VTEP -> peer MAC, permanent" "$(ip -n "$P-a" neigh show dev podnet.1)" "10.244.2.0 lladdr 0e:fe:c0:00:02:02 PERMANENT "
expect_match "FDB: peer MAC -> peer underlay address" "$(ip netns exec "$P-a" bridge fdb show dev podnet.1)" '0e:fe:c0:00:02:02 dst 192\.0\.2\.2 self permanent'
expect "onlink route to the peer's pod CIDR, our protocol" "$(ip -n "$P-a" route show 10.244.2.0/24)" "10.244.2.0/24 via 10.244.2.0 dev podnet.1 proto 152 onlink "

expect_true "every pod reaches every other (ICMP and TCP)" reach_all a1 a2 b1 b2
expect_true "path MTU: 1422-byte pings pass (1450 - 28)" ip netns exec "$P-a1" ping -M do -s 1422 -c 1 -W 2 -q "${POD_IP[b1]}"
expect_true "one byte more does not" bash -c "! ip netns exec $P-a1 ping -M do -s 1423 -c 1 -W 1 -q ${POD_IP[b1]} >/dev/null 2>&1"

# --- on the wire: UDP 8472, VNI 1 ---------------------------------------------------------
ip netns exec "$FAB" timeout 10 tcpdump -nn -T vxlan -i fab -c 2 -v udp port 8472 > "$TMP/cap" 2>/dev/null &
CAP=$!
sleep 1
ip netns exec "$P-a1" ping -c 3 -W 1 -q "${POD_IP[b2]}" >/dev/null 2>&1
wait $CAP
expect_match "the fabric carries VXLAN on UDP 8472 with VNI 1" "$(cat "$TMP/cap")" '192\.0\.2\.1\.[0-9]+ > 192\.0\.2\.2\.8472: VXLAN, flags \[I\] \(0x08\), vni 1'

# --- a non-peer's VXLAN is dropped --------------------------------------------------------
node rogue
ip -n "$P-rogue" link add vx0 type vxlan id 1 dstport 8472 local 192.0.2.66 dev eth0 nolearning
ip -n "$P-rogue" link set vx0 address 0e:fe:c0:00:02:42 up
ip -n "$P-rogue" addr add 10.244.66.0/32 dev vx0
ip -n "$P-rogue" neigh add 10.244.1.0 lladdr 0e:fe:c0:00:02:01 dev vx0 nud permanent
ip netns exec "$P-rogue" bridge fdb append 0e:fe:c0:00:02:01 dev vx0 dst 192.0.2.1
ip -n "$P-rogue" route add 10.244.1.0/24 via 10.244.1.0 dev vx0 onlink
# node a knows the way back, so only the source filter can stop it
ip -n "$P-a" route add 10.244.66.0/24 via 10.244.66.0 dev podnet.1 onlink
ip -n "$P-a" neigh add 10.244.66.0 lladdr 0e:fe:c0:00:02:42 dev podnet.1 nud permanent
ip netns exec "$P-a" bridge fdb append 0e:fe:c0:00:02:42 dev podnet.1 dst 192.0.2.66
expect_true "VXLAN from a node that is not a peer is dropped" bash -c "! ip netns exec $P-rogue ping -c 2 -W 1 -q ${POD_IP[a1]} >/dev/null 2>&1"

# --- node c joins, then node b leaves ------------------------------------------------------
sync_node() { ip netns exec "$P-$1" "$BIN/vxlan-overlay" sync "$TMP/conf-$1.json"; }
state() { echo "$(ip -n "$P-$1" -d link show podnet.1 | head -1)|$(ip -n "$P-$1" route show proto 152)|$(ip -n "$P-$1" neigh show dev podnet.1 nud permanent)|$(ip netns exec "$P-$1" bridge fdb show dev podnet.1)|$(ip netns exec "$P-$1" nft list table inet podnet_vxlan)"; }
node c
for n in a b c; do peers_json a b c > "$TMP/peers-$n.json"; done
conflist c > "$TMP/conf-c.json"
pod c c1
pod c c2
expect_true "sync on node a" sync_node a
expect_true "sync on node b" sync_node b
expect_match "the sweep leaves routes that are not ours alone" "$(ip -n "$P-a" route show 10.244.66.0/24)" 'via 10\.244\.66\.0 dev podnet\.1 onlink'
ip -n "$P-a" route del 10.244.66.0/24
expect_true "after node c joined, every pod reaches every other" reach_all a1 a2 b1 b2 c1 c2
before=$(state a)
expect_true "sync again" sync_node a
pod a a3
expect "a rerun and another ADD change nothing on the node" "$(state a)" "$before"
for n in a c; do peers_json a c > "$TMP/peers-$n.json"; done
expect_true "node b leaves: sync on a" sync_node a
expect_true "node b leaves: sync on c" sync_node c
for n in a c; do
	expect "node $n: no route to b's pods" "$(ip -n "$P-$n" route show 10.244.2.0/24)" ""
	expect "node $n: no neighbour for b's VTEP" "$(ip -n "$P-$n" neigh show 10.244.2.0 dev podnet.1)" ""
	expect "node $n: no FDB entry for b" "$(ip netns exec "$P-$n" bridge fdb show dev podnet.1 | grep -c 192.0.2.2)" 0
	expect "node $n: b is no longer an allowed VXLAN source" "$(ip netns exec "$P-$n" nft list set inet podnet_vxlan peers4 | grep -c 192.0.2.2)" 0
done
expect_true "a and c still reach each other" reach_all a1 c1

# --- node c's underlay address moves ---------------------------------------------------------
ip -n "$P-c" addr del 192.0.2.3/24 dev eth0
ip -n "$P-c" addr add 192.0.2.4/24 dev eth0
ip -n "$P-c" route replace default dev eth0
IP[c]=192.0.2.4
for n in a c; do peers_json a c > "$TMP/peers-$n.json"; done
expect_true "sync on c after its address moved" sync_node c
expect_match "c's device follows: local and MAC from the new address" "$(ip -n "$P-c" -d link show podnet.1)" \
	'link/ether 0e:fe:c0:00:02:04 .*local 192\.0\.2\.4 '
expect_true "sync on a" sync_node a
expect_match "a's FDB points at c's new address" "$(ip netns exec "$P-a" bridge fdb show dev podnet.1)" '0e:fe:c0:00:02:04 dst 192\.0\.2\.4'
expect "a's FDB has nothing for c's old address" "$(ip netns exec "$P-a" bridge fdb show dev podnet.1 | grep -c '192\.0\.2\.3')" 0
expect_true "a and c reach each other again" reach_all a1 c1

# --- direct routing between nodes on one L2 segment ---------------------------------------------
for n in a c; do sed -i 's/"clusterCIDR"/"directRouting":true,"clusterCIDR"/' "$TMP/conf-$n.json"; sync_node "$n"; done
expect "with directRouting, a routes c's pods straight to c, no encapsulation" \
	"$(ip -n "$P-a" route show 10.244.3.0/24)" "10.244.3.0/24 via 192.0.2.4 dev eth0 proto 152 "
expect "and keeps no VXLAN neighbour for c" "$(ip -n "$P-a" neigh show dev podnet.1 nud permanent)" ""
expect_true "a and c reach each other directly" reach_all a1 c1
for n in a c; do sed -i 's/"directRouting":true,//' "$TMP/conf-$n.json"; sync_node "$n"; done
expect "without it, back over VXLAN" "$(ip -n "$P-a" route show 10.244.3.0/24)" "10.244.3.0/24 via 10.244.3.0 dev podnet.1 proto 152 onlink "

# --- an IPv6 underlay: MTU - 70; a device left with other settings is replaced ------------------
for n in d e; do
	netns_add "$P-$n"
	ip -n "$FAB" link add "${P}$n" type veth peer name eth0 netns "$P-$n"
	ip -n "$FAB" link set "${P}$n" master fab up
	ip -n "$P-$n" link set lo up
done
ip -n "$P-d" addr add fd00:ff::d/64 dev eth0 nodad
ip -n "$P-e" addr add fd00:ff::e/64 dev eth0 nodad
for n in d e; do ip -n "$P-$n" link set eth0 up; ip -n "$P-$n" -6 route add default dev eth0; done
ip -n "$P-d" link add podnet.1 type vxlan id 7 dstport 4789 dev eth0   # stale, other VNI and port
v6conf() {  # NODE NUM PEER_NODE PEER_NUM
	cat <<JSON
{"cniVersion":"1.0.0","name":"v6u","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"mtu":1430,
  "ipam":{"type":"host-local","dataDir":"$TMP/data-$1","ranges":[[{"subnet":"10.245.$2.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"vxlan-overlay","underlayInterface":"eth0",
  "peers":[{"nodeIP":"fd00:ff::$3","podCIDR":"10.245.$4.0/24"}]}]}
JSON
}
v6conf d 4 e 5 > "$TMP/conf-d.json"
v6conf e 5 d 4 > "$TMP/conf-e.json"
for n in d e; do
	netns_add "$P-${n}1"
	ip netns exec "$P-$n" "$LIBCNI" -conflist "$TMP/conf-$n.json" -netns "/run/netns/$P-${n}1" -id "${n}1" -ifname eth0 \
		-path "$TMP/bin" -cache "$TMP/cache" add >/dev/null 2>"$TMP/err"
	expect "ADD on node $n over an IPv6 underlay" "$?" 0 || cat "$TMP/err"
done
DEV=$(ip -n "$P-d" -d link show podnet.1)
expect_match "the stale device was replaced: VNI 1, port 8472" "$DEV" 'vxlan id 1 local fd00:ff::d .*dstport 8472'
expect_match "IPv6 underlay: MTU = 1500 - 70" "$DEV" 'mtu 1430 '
expect_true "pods reach each other over the IPv6 underlay" ip netns exec "$P-d1" ping -c 1 -W 2 -q 10.245.5.2
expect_true "path MTU: 1402-byte pings pass (1430 - 28)" ip netns exec "$P-d1" ping -M do -s 1402 -c 1 -W 2 -q 10.245.5.2

# --- STATUS -----------------------------------------------------------------------------------
status() { printf '{"cniVersion":"1.1.0","name":"overlay","type":"vxlan-overlay","peersFile":"%s"}' "$TMP/peers-a.json" |
	ip netns exec "$P-a" env CNI_COMMAND=STATUS CNI_PATH="$TMP/bin" "$BIN/vxlan-overlay"; }
OUT=$(status); expect "STATUS of a ready node: success, no output" "$?:$OUT" "0:"
ip -n "$P-a" link set podnet.1 down
OUT=$(status); expect "STATUS with the device down: code 50" "$($JSON code <<<"$OUT")" 50
ip -n "$P-a" link set podnet.1 up
OUT=$(status); expect "STATUS once it is up again but its peer routes went with the link: code 50" "$($JSON code <<<"$OUT")" 50
expect_true "sync restores them" sync_node a
OUT=$(status); expect "STATUS ready again" "$?:$OUT" "0:"

# --- CHECK, DEL -------------------------------------------------------------------------------
ip netns exec "$P-a" "$LIBCNI" -conflist "$TMP/conf-a.json" -netns "/run/netns/$P-a1" -id a1 -ifname eth0 \
	-path "$TMP/bin" -cache "$TMP/cache" check 2>"$TMP/err"
expect "CHECK of the chain" "$?" 0
ip netns exec "$P-a" "$LIBCNI" -conflist "$TMP/conf-a.json" -netns "/run/netns/$P-a1" -id a1 -ifname eth0 \
	-path "$TMP/bin" -cache "$TMP/cache" del 2>"$TMP/err"
expect "DEL of the chain" "$?" 0
expect_match "DEL leaves the shared device" "$(ip -n "$P-a" -br link show podnet.1)" '^podnet\.1 '
ip -n "$P-a" link set podnet.1 mtu 1300
ip netns exec "$P-a" "$LIBCNI" -conflist "$TMP/conf-a.json" -netns "/run/netns/$P-a2" -id a2 -ifname eth0 \
	-path "$TMP/bin" -cache "$TMP/cache" check 2>"$TMP/err"
expect "CHECK fails once the device was changed" "$?" 1
expect_match "and says so" "$(cat "$TMP/err")" 'does not have the configured settings'

finish
