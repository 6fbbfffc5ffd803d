#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bridge run as a runtime runs it, inside a node netns, with host-local as IPAM:
#
#   [pod1] eth0 ─┐                          ┌─ [ext] 192.0.2.100   (a host outside the cluster)
#   [pod2] eth0 ─┼─ cni bridge ─ [node] ─ veth
#   [pod3] eth0 ─┘  10.244.1.1/24, fd00:10:244:1::1/64   192.0.2.1
#
# Pods reach each other and the gateway unmasqueraded, reach ext masqueraded (ext
# sees 192.0.2.1), MTU and hairpin as configured; CHECK fails after tampering; DEL
# works without the netns; a failed ADD leaves nothing; hostile input is refused.
source "$(dirname "$0")/lib.sh"

NODE=$P-node EXT=$P-ext BR=${P}br
netns_add "$NODE"
netns_add "$EXT"
for i in 1 2 3 4 5 6; do netns_add "$P-pod$i"; done
ip -n "$NODE" link add "${P}n" type veth peer name "${P}x" netns "$EXT"
ip -n "$NODE" addr add 192.0.2.1/24 dev "${P}n"
ip -n "$EXT" addr add 192.0.2.100/24 dev "${P}x"
for ns in "$NODE" "$EXT" "$P-pod1" "$P-pod2"; do ip -n "$ns" link set lo up; done
ip -n "$NODE" link set "${P}n" up
ip -n "$EXT" link set "${P}x" up
DATA=$TMP/data
CNI_PATH_DIRS=$BIN

DUAL='[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]'
# conf VERSION [EXTRA_KEYS] [RANGES]
conf() {
	printf '{"cniVersion":"%s","name":"brnet","type":"bridge","bridge":"%s","isGateway":true,"ipMasq":true%s,"ipam":{"type":"host-local","dataDir":"%s","ranges":%s,"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]}}' \
		"$1" "$BR" "${2:+,$2}" "$DATA" "${3:-$DUAL}"
}
# add ID POD [CONF...]: ADD into pod netns $P-POD, result in $OUT
add() { local id=$1 pod=$2; shift 2; CNI_NETNS_PATH=/run/netns/$P-$pod cni "$BIN/bridge" ADD "$id" "$@"; }
del() { local id=$1 pod=$2; shift 2; CNI_NETNS_PATH=/run/netns/$P-$pod cni "$BIN/bridge" DEL "$id" "$@"; }
in_pod() { local pod=$1; shift; ip netns exec "$P-$pod" "$@"; }
host_veths() { ip -n "$NODE" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^veth' | sort | tr '\n' ' '; }
reservations() { (cd "$DATA/brnet" 2>/dev/null && ls | grep -v -e '^lock$' -e '^last_reserved_ip' | sort | tr '\n' ' '); }

add p1 pod1 < <(conf 1.0.0)
R1=$OUT
expect "ADD pod1 succeeds" "$RC" 0
expect "result: bridge first" "$($JSON interfaces.0.name <<<"$R1")" "$BR"
expect_match "result: host veth second" "$($JSON interfaces.1.name <<<"$R1")" '^veth[0-9a-f]{8}$'
expect "result: eth0 in the pod's sandbox" "$($JSON interfaces.2.name <<<"$R1") $($JSON interfaces.2.sandbox <<<"$R1")" "eth0 /run/netns/$P-pod1"
expect "result: v4 address on interface 2" "$($JSON ips.0.interface <<<"$R1") $($JSON ips.0.address <<<"$R1") $($JSON ips.0.gateway <<<"$R1")" \
	"2 10.244.1.2/24 10.244.1.1"
expect "result: v6 address" "$($JSON ips.1.address <<<"$R1")" "fd00:10:244:1::2/64"
expect "result: eth0 MAC is the pod's" "$($JSON interfaces.2.mac <<<"$R1")" "$(cat /dev/null; ip -n "$P-pod1" -br link show eth0 | awk '{print $3}')"
expect_match "pod1 has its address" "$(ip -n "$P-pod1" -br addr show eth0)" '10\.244\.1\.2/24 fd00:10:244:1::2/64'
expect "pod1 default route via the gateway" "$(ip -n "$P-pod1" route show default)" "default via 10.244.1.1 dev eth0 "
expect_match "pod1 IPv6 default route" "$(ip -n "$P-pod1" -6 route show default)" '^default via fd00:10:244:1::1 dev eth0'
expect_match "bridge holds both gateways" "$(ip -n "$NODE" -br addr show "$BR")" '10\.244\.1\.1/24 fd00:10:244:1::1/64'
expect "IPv6 DAD is off in the pod (no waiting)" "$(in_pod pod1 cat /proc/sys/net/ipv6/conf/eth0/accept_dad)" 0
expect "forwarding on in the node" "$(ip netns exec "$NODE" cat /proc/sys/net/ipv4/ip_forward)" 1
expect "IPv6 forwarding on in the node" "$(ip netns exec "$NODE" cat /proc/sys/net/ipv6/conf/all/forwarding)" 1
expect "arp_notify on the pod's eth0 (gratuitous ARP when it comes up)" "$(in_pod pod1 cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" 1
expect "IPv6 on the pod's eth0 keeps its addresses when down" \
	"$(in_pod pod1 cat /proc/sys/net/ipv6/conf/eth0/keep_addr_on_down /proc/sys/net/ipv6/conf/eth0/disable_ipv6 | tr '\n' ' ')" "1 0 "
HV1=$($JSON interfaces.1.name <<<"$R1")
expect "no router advertisements accepted on the bridge" "$(ip netns exec "$NODE" cat /proc/sys/net/ipv6/conf/"$BR"/accept_ra)" 0
expect "the host veth, a bridge port, has no IPv6 address (addrgenmode none) and no route but multicast" \
	"$(ip -n "$NODE" -d link show "$HV1" | grep -o 'addrgenmode [a-z0-9]*') $(ip -n "$NODE" -6 addr show dev "$HV1" | wc -l) $(ip -n "$NODE" -6 route show table all dev "$HV1" | awk '{print $1, $2}' | tr '\n' ' ')" \
	"addrgenmode none 0 multicast ff00::/8 "
BRMAC=$(ip -n "$NODE" -br link show "$BR" | awk '{print $3}')
expect "the bridge's MAC is pinned (set, not taken from a port)" \
	"$(ip netns exec "$NODE" cat /sys/class/net/"$BR"/addr_assign_type)" 3
expect "result: the bridge's MAC" "$($JSON interfaces.0.mac <<<"$R1")" "$BRMAC"
# an admin turns RA back on: the next ADD turns it off again, as the reference's does
ip netns exec "$NODE" sysctl -qw net.ipv6.conf."$BR".accept_ra=1
add p2 pod2 < <(conf 1.0.0)
expect "ADD pod2 gets the next address" "$($JSON ips.0.address <<<"$OUT")" "10.244.1.3/24"
expect "ADD pod2 turned RA on the bridge off again" "$(ip netns exec "$NODE" cat /proc/sys/net/ipv6/conf/"$BR"/accept_ra)" 0
expect "the bridge kept its MAC" "$(ip -n "$NODE" -br link show "$BR" | awk '{print $3}') $($JSON interfaces.0.mac <<<"$OUT")" "$BRMAC $BRMAC"

# --- traffic ----------------------------------------------------------------------
# counters in the receivers: who do packets come from?
ip netns exec "$P-pod2" nft -f - <<NFT
table inet seen {
	chain in {
		type filter hook input priority 0;
		ip saddr 10.244.1.2 counter
		ip saddr 192.0.2.1 counter
	}
}
NFT
ip netns exec "$EXT" nft -f - <<NFT
table inet seen {
	chain in {
		type filter hook input priority 0;
		ip saddr 192.0.2.1 icmp type echo-request counter
		ip saddr 10.244.1.0/24 counter
	}
}
NFT
counter() { ip netns exec "$1" nft list chain inet seen in | grep "$2" | grep -o 'packets [0-9]*' | awk '{print $2}'; }
expect_true "pod1 -> pod2" in_pod pod1 ping -c 2 -W 2 -q 10.244.1.3
expect "pod -> pod is not masqueraded" "$(counter "$P-pod2" 'saddr 10.244.1.2')" 2
expect_true "pod2 -> pod1 over IPv6" in_pod pod2 ping -6 -c 1 -W 2 -q fd00:10:244:1::2
expect_true "pod1 -> gateway" in_pod pod1 ping -c 1 -W 2 -q 10.244.1.1
expect_true "pod1 -> IPv6 gateway" in_pod pod1 ping -6 -c 1 -W 2 -q fd00:10:244:1::1
expect_true "pod1 -> ext" in_pod pod1 ping -c 3 -W 2 -q 192.0.2.100
expect "ext sees the node's address" "$(counter "$EXT" 'saddr 192.0.2.1')" 3
expect "ext never sees a pod address" "$(counter "$EXT" 'saddr 10.244.1.0/24')" 0
expect_match "nft shows our table readably" "$(ip netns exec "$NODE" nft list map inet podnet_masq pods4)" \
	'10\.244\.1\.2 comment "net: brnet, if: eth0, id: p1" : jump masq-brnet-10\.244\.1\.0-24'

# --- CHECK --------------------------------------------------------------------------
with_prev() { conf 1.0.0 "\"prevResult\":$1"; }
CNI_NETNS_PATH=/run/netns/$P-pod1 cni "$BIN/bridge" CHECK p1 < <(with_prev "$R1")
expect "CHECK right after ADD" "$RC:$OUT" "0:"
ip -n "$P-pod1" addr del 10.244.1.2/24 dev eth0
CNI_NETNS_PATH=/run/netns/$P-pod1 cni "$BIN/bridge" CHECK p1 < <(with_prev "$R1")
expect "CHECK fails after an address was removed" "$($JSON msg <<<"$OUT")" "Failed to match addr 10.244.1.2/24 on interface eth0"
ip -n "$P-pod1" addr add 10.244.1.2/24 dev eth0
ip -n "$NODE" link set "$($JSON interfaces.1.name <<<"$R1")" nomaster
CNI_NETNS_PATH=/run/netns/$P-pod1 cni "$BIN/bridge" CHECK p1 < <(with_prev "$R1")
expect "CHECK fails after the host veth left the bridge" "$($JSON msg <<<"$OUT")" "CNI veth created for bridge $BR was not found"
ip -n "$NODE" link set "$($JSON interfaces.1.name <<<"$R1")" master "$BR"
CNI_NETNS_PATH=/run/netns/$P-pod1 cni "$BIN/bridge" CHECK p1 < <(conf 1.0.0)
expect "CHECK without prevResult" "$($JSON msg <<<"$OUT")" "Required prevResult missing"

# --- MTU and hairpin -----------------------------------------------------------------
BR_SAVED=$BR BR=${P}mt
add m1 pod3 < <(conf 1.0.0 '"mtu":1400,"hairpinMode":true' '[[{"subnet":"10.244.2.0/24"}]]')
expect "ADD with mtu and hairpin" "$RC" 0
HV=$($JSON interfaces.1.name <<<"$OUT")
expect_match "pod eth0 MTU 1400" "$(ip -n "$P-pod3" link show eth0)" 'mtu 1400 '
expect_match "host veth MTU 1400" "$(ip -n "$NODE" link show "$HV")" 'mtu 1400 '
expect_match "hairpin on the port" "$(ip netns exec "$NODE" bridge -d link show dev "$HV")" 'hairpin on'
ip -n "$P-pod3" link set lo up
expect_true "1400-byte packets pass (ping -M do -s 1372)" in_pod pod3 ping -M do -s 1372 -c 1 -W 2 -q 10.244.2.1
expect_true "1401-byte packets do not" bash -c "! ip netns exec $P-pod3 ping -M do -s 1373 -c 1 -W 1 -q 10.244.2.1 >/dev/null 2>&1"
del m1 pod3 < <(conf 1.0.0 '"mtu":1400,"hairpinMode":true' '[[{"subnet":"10.244.2.0/24"}]]')
BR=$BR_SAVED
expect_match "hairpin off by default" "$(ip netns exec "$NODE" bridge -d link show dev "$($JSON interfaces.1.name <<<"$R1")")" 'hairpin off'

# --- failed ADDs leave nothing --------------------------------------------------------
before="$(host_veths)|$(reservations)|$(ip netns exec "$NODE" nft list ruleset | grep -o "comment \"net[^\"]*\"" | sort | tr "\n" " ")"
add f1 pod4 < <(conf 1.0.0 '"vlan":100')
expect "vlan without kernel VLAN filtering fails" "$RC" 1
expect_match "and says which kernel feature is missing" "$($JSON msg <<<"$OUT")" 'VLAN filtering'
add f1 pod4 < <(conf 1.0.0 '"vlanTrunk":[{"minID":101,"maxID":103}]')
expect_match "vlanTrunk fails the same way" "$($JSON msg <<<"$OUT")" 'VLAN filtering'
add f2 pod4 < <(conf 1.0.0 "" '[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:9::/126","rangeStart":"fd00:10:244:9::2","rangeEnd":"fd00:10:244:9::2"}]]')
add f3 pod5 < <(conf 1.0.0 "" '[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:9::/126","rangeStart":"fd00:10:244:9::2","rangeEnd":"fd00:10:244:9::2"}]]')
expect "ADD with an exhausted range fails" "$RC" 1
expect_match "with host-local's message" "$($JSON msg <<<"$OUT")" 'no IP addresses available in range set'
expect "no eth0 left in the pod" "$(ip -n "$P-pod5" -o link show | grep -c eth0)" 0
del f2 pod4 < <(conf 1.0.0 "" '[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:9::/126","rangeStart":"fd00:10:244:9::2","rangeEnd":"fd00:10:244:9::2"}]]')
IFNAME=eth0 add f4 pod1 < <(conf 1.0.0)
expect "ADD of an existing interface fails" "$($JSON msg <<<"$OUT")" 'container veth name ("eth0") already exists'
after="$(host_veths)|$(reservations)|$(ip netns exec "$NODE" nft list ruleset | grep -o "comment \"net[^\"]*\"" | sort | tr "\n" " ")"
expect "failed ADDs left no veth, reservation or rule" "$after" "$before"

# --- hostile input ----------------------------------------------------------------------
hostile() {  # NAME CODE < input
	local name=$1 want=$2 b a
	b="$(host_veths)|$(reservations)"
	add h1 pod6 "${@:3}"
	a="$(host_veths)|$(reservations)"
	if [[ $RC -eq 1 && "$($JSON code <<<"$OUT")" == "$want" && "$b" == "$a" && -z "$(ip -n "$P-pod6" -o link show eth0 2>/dev/null)" ]]; then
		ok "hostile: $name -> code $want"
	else
		not_ok "hostile: $name (rc $RC, ${OUT:0:200})"
	fi
}
hostile "empty stdin" 6 < /dev/null
hostile "malformed JSON" 6 <<<'{"cniVersion":"1.0.0","name":"h",'
hostile "truncated" 6 < <(conf 1.0.0 | head -c 80)
hostile "binary garbage" 6 < <(head -c 4096 /dev/urandom)
hostile "unknown cniVersion" 1 < <(conf 7.0.0)
hostile "network name with /" 7 < <(conf 1.0.0 | sed 's/"brnet"/"a\/b"/')
hostile "bool of the wrong type" 999 < <(conf 1.0.0 '"portIsolation":"true"')
hostile "mtu of the wrong type" 999 < <(conf 1.0.0 '"mtu":1500.5')
hostile "vlan out of range" 999 < <(conf 1.0.0 '"vlan":5000')
hostile "bad vlanTrunk" 999 < <(conf 1.0.0 '"vlanTrunk":[{"minID":10}]')
hostile "hairpin and promisc" 999 < <(conf 1.0.0 '"hairpinMode":true,"promiscMode":true')
hostile "unknown ipMasqBackend" 999 < <(conf 1.0.0 '"ipMasqBackend":"pf"')
hostile "bridge name too long" 999 < <(conf 1.0.0 | sed "s/\"$BR\"/\"averyveryverylongname\"/")
hostile "bad CIDR" 999 < <(conf 1.0.0 "" '[[{"subnet":"10.244.1.0/33"}]]')
hostile "IPAM plugin missing" 999 < <(conf 1.0.0 | sed 's/"type":"host-local"/"type":"nope"/')
hostile "bad MAC in CNI_ARGS" 999 CNI_ARGS="MAC=zz:zz" < <(conf 1.0.0)
hostile "20 MB of input" 6 < <(conf 1.0.0 "\"pad\":\"$(head -c 20000000 /dev/zero | tr '\0' a)\"")
hostile "deep nesting" 6 < <(printf '{"cniVersion":"1.0.0","name":"h","x":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; echo '}')
CNI_NETNS_PATH=/run/netns/$P-nonexistent cni "$BIN/bridge" ADD h2 < <(conf 1.0.0)
expect_match "missing netns" "$RC $($JSON msg <<<"$OUT")" '^1 failed to open netns'
CNI_NETNS_PATH=/proc/self/ns/net NODE="" cni "$BIN/bridge" ADD h3 < <(conf 1.0.0)
expect "CNI_NETNS naming the plugin's own netns: code 8" "$RC:$($JSON code <<<"$OUT")" "1:8"

# --- macspoofchk ---------------------------------------------------------------------
add s1 pod5 < <(conf 1.0.0 '"macspoofchk":true')
expect "ADD with macspoofchk" "$RC" 0
SMAC=$($JSON interfaces.2.mac <<<"$OUT")
SVETH=$($JSON interfaces.1.name <<<"$OUT")
expect_match "the port's chain drops other source MACs" \
	"$(ip netns exec "$NODE" nft list chain bridge podnet_spoofchk "port-$SVETH")" "ether saddr != $SMAC drop"
expect_true "with its own MAC the pod reaches pod1" in_pod pod5 ping -c 1 -W 2 -q 10.244.1.2
ip -n "$P-pod5" link set eth0 address 02:00:00:00:00:99
expect_true "with a spoofed MAC it does not" bash -c "! ip netns exec $P-pod5 ping -c 2 -W 1 -q 10.244.1.2"
ip -n "$P-pod5" link set eth0 address "$SMAC"
expect_true "with its MAC back it does again" in_pod pod5 ping -c 1 -W 2 -q 10.244.1.2
ip netns del "$P-pod5"
del s1 pod5 < <(conf 1.0.0 '"macspoofchk":true')
expect "DEL with macspoofchk after the netns was removed" "$RC" 0
expect "no spoof-check element or chain left" \
	"$(ip netns exec "$NODE" nft list table bridge podnet_spoofchk | grep -c -e "$SVETH" -e 'comment')" 0
netns_add "$P-pod5"

# --- DEL ------------------------------------------------------------------------------
ip netns del "$P-pod2"
del p2 pod2 < <(conf 1.0.0)
expect "DEL after the netns was removed succeeds" "$RC:$OUT" "0:"
expect "and releases the address" "$(reservations)" "10.244.1.2 fd00:10:244:1::2 "
expect "and removes the masquerade" "$(ip netns exec "$NODE" nft list map inet podnet_masq pods4 | grep -c 10.244.1.3)" 0
del p1 pod1 < <(conf 1.0.0)
expect "DEL pod1" "$RC" 0
expect "no host veth left" "$(host_veths)" ""
expect "no reservation left" "$(reservations)" ""
expect "no masquerade element left" "$(ip netns exec "$NODE" nft list ruleset | grep -c 'comment "net:')" 0
del p1 pod1 < <(conf 1.0.0)
expect "DEL again succeeds" "$RC:$OUT" "0:"
NODE_NS=$NODE NODE="" CNI_NETNS_PATH="" cni "$BIN/bridge" DEL p9 < <(conf 1.0.0)
expect "DEL with an empty CNI_NETNS succeeds" "$RC" 0

# --- switching from the reference: our DEL of a pod it added ----------------------------
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$REF cni "$REF/bridge" ADD r1 < <(conf 1.0.0)
expect "the reference bridge adds a pod (iptables masquerade)" "$RC" 0
expect_match "its iptables-nft chain is there" "$(ip netns exec "$NODE" iptables-save -t nat)" '-j CNI-[0-9a-f]{24}'
del r1 pod4 < <(conf 1.0.0 "\"prevResult\":$OUT")
expect "our DEL of the reference's pod" "$RC:$OUT" "0:"
expect "removes its iptables chain and POSTROUTING rule" "$(ip netns exec "$NODE" iptables-save -t nat | grep -c CNI-)" 0
expect "its interface" "$(ip -n "$P-pod4" -o link show | grep -c eth0)" 0
expect "and its reservation" "$(reservations)" ""
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$REF cni "$REF/bridge" ADD r2 < <(conf 1.0.0 '"macspoofchk":true')
expect_match "the reference's macspoofchk chains are there" "$(ip netns exec "$NODE" nft list table bridge nat)" 'chain cni-br-iface-r2-eth0-mac'
del r2 pod4 < <(conf 1.0.0 "\"macspoofchk\":true,\"prevResult\":$OUT")
expect "our DEL removes them and the PREROUTING jump" \
	"$(ip netns exec "$NODE" nft list table bridge nat | grep -c -e cni-br-iface -e macspoofchk)" 0

# --- L2 only, STATUS, GC --------------------------------------------------------------
printf '{"cniVersion":"1.0.0","name":"l2","type":"bridge","bridge":"%s"}' "${P}l2" > "$TMP/l2.json"
add l1 pod4 < "$TMP/l2.json"
expect "L2-only ADD: no ips" "$RC:$($JSON ips <<<"$OUT" >/dev/null; echo $?)" "0:2"
expect_match "L2-only: eth0 up" "$(ip -n "$P-pod4" -br link show eth0)" ' UP '
expect "L2-only: no global address" "$(ip -n "$P-pod4" addr show eth0 scope global)" ""
del l1 pod4 < "$TMP/l2.json"
cni "$BIN/bridge" STATUS "" < <(conf 1.1.0)
expect "STATUS forwarded to host-local" "$RC:$OUT" "0:"
add g1 pod4 < <(conf 1.1.0 '"macspoofchk":true')
G1VETH=$($JSON interfaces.1.name <<<"$OUT")
G1="$(cut -d/ -f1 <<<"$($JSON ips.0.address <<<"$OUT")") $(cut -d/ -f1 <<<"$($JSON ips.1.address <<<"$OUT")") "
add g2 pod5 < <(conf 1.1.0 '"macspoofchk":true')
G2VETH=$($JSON interfaces.1.name <<<"$OUT")
cni "$BIN/bridge" GC "" < <(conf 1.1.0 '"cni.dev/valid-attachments":[{"containerID":"g1","ifname":"eth0"}]')
expect "GC succeeds" "$RC:$OUT" "0:"
expect "GC released g2's addresses (forwarded to host-local)" "$(reservations)" "$G1"
expect "GC removed g2's masquerade and spoof check, kept g1's" "$(ip netns exec "$NODE" nft list ruleset | grep -o 'id: g[0-9]' | sort -u | tr '\n' ' ')" "id: g1 "
expect "GC removed g2's port chain, kept g1's" \
	"$(ip netns exec "$NODE" nft list table bridge podnet_spoofchk | grep -o -e "port-$G1VETH {" -e "port-$G2VETH {" | tr '\n' ' ')" "port-$G1VETH { "
del g1 pod4 < <(conf 1.1.0 '"macspoofchk":true')
del g2 pod5 < <(conf 1.1.0 '"macspoofchk":true')

# --- host-local in-process: only for the host-local of this very build --------------------------
# bridge runs host-local's code itself when the file on CNI_PATH carries the GNU build ID of the
# host-local built with it; any other host-local (another build, the reference's) is exec'd.
HL=$TMP/hl
mkdir -p "$HL/same" "$HL/other"
cp "$BIN/host-local" "$HL/same/"
cp "$BIN/host-local" "$HL/other/"
HLID=$(readelf -n "$BIN/host-local" | sed -n 's/.*Build ID: *//p')
# (LeakSanitizer cannot run under ptrace: strace'd runs of a SAN build go without it)
# the other build: the same code with one bit of its build ID flipped
perl -0777 -pi -e 'BEGIN { $id = pack("H*", shift); ($x = $id) =~ s/^(.)/chr(ord($1) ^ 1)/se } s/\Q$id\E/$x/' "$HLID" "$HL/other/host-local"
expect_true "the copy's build ID differs" bash -c "[[ \$(readelf -n $HL/other/host-local | sed -n 's/.*Build ID: *//p') != $HLID ]]"
execs() { grep -c 'execve(".*host-local"' "$TMP/trace" || true; }
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$HL/same cni "$BIN/bridge" ADD h1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=execve -o "$TMP/trace" < <(conf 1.0.0)
expect "this build's host-local: ADD succeeds without exec'ing it" "$RC:$(execs)" "0:0"
H1=$($JSON ips.0.address <<<"$OUT")
H1FILE=$(od -c "$DATA/brnet/${H1%/*}" | head -2)
expect_match "its reservation file names the attachment as host-local writes it" "$H1FILE" 'h   1  \\r  \\n   e   t   h   0'
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$HL/same cni "$BIN/bridge" DEL h1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=execve -o "$TMP/trace" < <(conf 1.0.0)
expect "and DEL releases its address, again in-process" "$RC:$(execs):$(reservations)" "0:0:"
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$HL/other cni "$BIN/bridge" ADD h1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=execve -o "$TMP/trace" < <(conf 1.0.0)
expect "another build's host-local is exec'd" "$RC:$(execs)" "0:1"
H1B=$($JSON ips.0.address <<<"$OUT") H1IP=${H1%/*}
expect "with the next address in host-local's round robin, and the same reservation file" \
	"${H1B%/*} $(od -c "$DATA/brnet/${H1B%/*}" | head -2)" "${H1IP%.*}.$(( ${H1IP##*.} + 1 )) $H1FILE"
chmod a-x "$HL/same/host-local"
CNI_NETNS_PATH=/run/netns/$P-pod5 CNI_PATH_DIRS=$HL/same cni "$BIN/bridge" ADD h2 < <(conf 1.0.0)
expect_match "a host-local that cannot be exec'd fails as an exec would" "$RC:$(cat "$TMP/stderr")$OUT" '^1:.*(failed to find plugin|permission denied|Permission denied)'
expect "and leaves no eth0 in the pod" "$(ip -n "$P-pod5" -o link show eth0 2>/dev/null | wc -l)" 0
CNI_NETNS_PATH=/run/netns/$P-pod4 CNI_PATH_DIRS=$HL/other cni "$BIN/bridge" DEL h1 < <(conf 1.0.0)
expect "DEL through the other build" "$RC:$(reservations)" "0:"

# --- 16 ADDs at once, then 16 DELs, each with host-local in-process (as a runtime starting pods) ---
conf 1.0.0 '"ipMasq":true' > "$TMP/par.json"
for i in $(seq 1 16); do netns_add "$P-par$i"; done
for i in $(seq 1 16); do
	ip netns exec "$NODE" env CNI_COMMAND=ADD CNI_CONTAINERID=par$i CNI_NETNS=/run/netns/$P-par$i CNI_IFNAME=eth0 \
		CNI_PATH="$BIN" "$BIN/bridge" < "$TMP/par.json" > "$TMP/par$i.out" 2>&1 &
done
wait
PARIPS=$(for i in $(seq 1 16); do $JSON ips.0.address < "$TMP/par$i.out"; done | sort -u | wc -l)
expect "16 parallel ADDs: 16 distinct addresses" "$PARIPS" 16
expect "16 parallel ADDs: 16 eth0 up with their address" \
	"$(for i in $(seq 1 16); do ip -n "$P-par$i" -br addr show eth0 2>/dev/null | grep -c ' UP .*10\.244\.1\.'; done | awk '{ s += $1 } END { print s }')" 16
expect "16 parallel ADDs: 16 masquerade entries" \
	"$(ip netns exec "$NODE" nft list ruleset | grep -oE 'id: par[0-9]+' | sort -u | wc -l)" 16
for i in $(seq 1 16); do
	ip netns exec "$NODE" env CNI_COMMAND=DEL CNI_CONTAINERID=par$i CNI_NETNS=/run/netns/$P-par$i CNI_IFNAME=eth0 \
		CNI_PATH="$BIN" "$BIN/bridge" < "$TMP/par.json" > "$TMP/pardel$i.out" 2>&1 &
done
wait
expect "16 parallel DELs: no reservation, eth0 or masquerade entry left" \
	"$(reservations | grep -c . ; for i in $(seq 1 16); do ip -n "$P-par$i" link show eth0 2>/dev/null; done | wc -l; ip netns exec "$NODE" nft list ruleset | grep -c 'id: par')" "0
0
0"

finish
