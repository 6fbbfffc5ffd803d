#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Stale UDP conntrack cleanup (proxy/conntrack.c, through tests/tools/pn-ct-clean):
#
#   [client netns] 10.0.0.2      ──  [node netns] 10.0.0.1 + 10.0.0.3 (two node addresses)  ──  [endpoints netns]
#    fd00::2, sends from fixed        fd00::1; nft DNAT: Service IPs 10.96.0.10/.11,                A 10.1.0.10  fd00:1::a
#    source ports (one 5-tuple        fd00:96::10, NodePort 30053 -> endpoint A or B                B 10.1.0.11  fd00:1::b
#    per flow)
#
# A client keeps sending from one source port while the Service moves from endpoint A to
# B: its datagrams stay stuck on A (the conntrack entry) until the entry is deleted, then
# reach B.  Checks which entries each call deletes (keep lists, no endpoints, NodePort on
# any node address, a Service IP deciding before a NodePort, IPv6, both families in one
# call, conntrack zones, thousands of entries), that only UDP and only the calling netns
# are touched, and refusals.
source "$(dirname "$0")/lib.sh"

CT=$TOP/$BUILD/tests/pn-ct-clean
[[ -x $CT ]] || { not_ok "pn-ct-clean is built ($CT)"; exit 1; }
C=$P-cli N=$P-node E=$P-ep
A=10.1.0.10 B=10.1.0.11 VIP=10.96.0.10 VIP2=10.96.0.11
A6=fd00:1::a B6=fd00:1::b VIP6=fd00:96::10

netns_add "$C"
netns_add "$N"
netns_add "$E"
ip -n "$N" link add n0 type veth peer name c0 netns "$C"
ip -n "$N" link add n1 type veth peer name e0 netns "$E"
ip -n "$N" addr add 10.0.0.1/24 dev n0
ip -n "$N" addr add 10.0.0.3/24 dev n0
ip -n "$N" addr add fd00::1/64 dev n0 nodad
ip -n "$N" addr add 10.1.0.1/24 dev n1
ip -n "$N" addr add fd00:1::1/64 dev n1 nodad
ip -n "$C" addr add 10.0.0.2/24 dev c0
ip -n "$C" addr add fd00::2/64 dev c0 nodad
for a in $A/24 $B/24; do ip -n "$E" addr add "$a" dev e0; done
for a in $A6/64 $B6/64; do ip -n "$E" addr add "$a" dev e0 nodad; done
for l in "$N n0" "$N n1" "$C c0" "$E e0" "$N lo" "$C lo" "$E lo"; do ip -n "${l% *}" link set "${l#* }" up; done
ip -n "$C" route add default via 10.0.0.1
ip -n "$C" -6 route add default via fd00::1
ip -n "$E" route add default via 10.1.0.1
ip -n "$E" -6 route add default via fd00:1::1
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# rules EP EP6: the node's DNAT with Service 10.96.0.10:53, its IPv6 twin and the NodePort
# on endpoint EP; the other Service, the other port and ICMP always on A
rules() {
	ip netns exec "$N" nft -f - <<NFT
table ip pnct
delete table ip pnct
table ip pnct {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr $VIP udp dport 53 dnat to $1:5353
		ip daddr $VIP2 udp dport 53 dnat to $A:5353
		ip daddr $VIP udp dport 54 dnat to $A:5353
		ip daddr $VIP ip protocol icmp dnat to $A
		fib daddr type local udp dport 30053 dnat to $1:5353
	}
}
table ip6 pnct
delete table ip6 pnct
table ip6 pnct {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip6 daddr $VIP6 udp dport 53 dnat to [$2]:5353
		fib daddr type local udp dport 30053 dnat to [$2]:5353
	}
}
NFT
}
rules $A $A6
expect "node DNAT rules load" "$?" 0
# conntrack in the client netns too: its own entries must survive the node's cleanups
ip netns exec "$C" nft -f - <<NFT
table inet pnct { chain out { type filter hook output priority 0; ct state new counter; }; }
NFT
# long UDP timeouts: a slow (sanitizer) run must not see entries expire on their own
for ns in "$N" "$C"; do ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600; done

send() { ip netns exec "$C" "$CT" send "$@"; }                    # SPORT DST DPORT MSG
clean() { ip netns exec "$N" "$CT" "$@" 2>"$TMP/stderr"; }        # prints the count
# flows FAMILY [NETNS]: the UDP entries as "sport>dst:dport@reply-src", sorted
flows() {
	ip netns exec "${2:-$N}" "$CT" list "$1" udp |
		sed -E 's/^udp src=[^ ]+ dst=([^ ]+) sport=([0-9]+) dport=([0-9]+) reply-src=([^ ]+) .*/\2>\1:\3@\4/' |
		sort | tr '\n' ' ' | sed 's/ $//'
}
# arrives MSG SPORT: sends MSG from SPORT to the Service; prints which endpoint got it
arrives() {
	local ep
	for ep in A B; do
		ip netns exec "$E" "$CT" recv "${!ep}" 5353 2 >"$TMP/recv.$ep" &
	done
	for _ in $(seq 50); do
		[[ $(ip netns exec "$E" ss -Hlun | grep -c ":5353 ") -eq 2 ]] && break
		sleep 0.05
	done
	send "$2" "$VIP" 53 "$1"
	wait
	for ep in A B; do [[ "$(cat "$TMP/recv.$ep")" == "$1" ]] && printf '%s' "$ep"; done
}

# --- the stuck flow ----------------------------------------------------------------
send 10001 $VIP 53 one && send 10003 $VIP2 53 x && send 10004 $VIP 54 x &&
	send 10005 10.0.0.1 30053 x && send 10006 10.0.0.3 30053 x
expect "client sends UDP from fixed ports" "$?" 0
ip netns exec "$C" ping -c 1 -W 2 -q $VIP >/dev/null
expect "ping to the Service IP is answered (an ICMP entry)" "$?" 0
rules $B $B6                                   # the Service moves to endpoint B
send 10002 $VIP 53 x
expect "dump shows every flow with its endpoint" "$(flows 4)" \
	"10001>$VIP:53@$A 10002>$VIP:53@$B 10003>$VIP2:53@$A 10004>$VIP:54@$A 10005>10.0.0.1:30053@$A 10006>10.0.0.3:30053@$A"
expect "a flow that began on A stays on A after the Service moved to B" "$(arrives stale 10001)" A
expect "a new flow goes to B" "$(arrives new 10009)" B

expect "keep=B deletes the one entry to A of that Service IP:port" "$(clean 4 $VIP 53 $B)" 1
expect "the flow's next datagram reaches B" "$(arrives fresh 10001)" B
expect "other Services, ports and NodePorts untouched" "$(flows 4)" \
	"10001>$VIP:53@$B 10002>$VIP:53@$B 10003>$VIP2:53@$A 10004>$VIP:54@$A 10005>10.0.0.1:30053@$A 10006>10.0.0.3:30053@$A 10009>$VIP:53@$B"
expect "the ICMP entry to the Service IP stays" "$(ip netns exec "$N" "$CT" list 4 icmp | grep -c "dst=$VIP ")" 1
expect "a second run deletes nothing" "$(clean 4 $VIP 53 $B)" 0
expect "keep=A on a Service whose entries are all on A deletes nothing" "$(clean 4 $VIP2 53 $A)" 0

# --- no endpoints ------------------------------------------------------------------
expect "a Service with no endpoints loses all its entries" "$(clean 4 $VIP2 53)" 1
expect "only that Service's" "$(flows 4 | grep -c "$VIP2")" 0

# --- NodePort ----------------------------------------------------------------------
send 10007 10.0.0.1 30053 x
# a Service IP target decides for its address (the DNAT rules look Service IPs up first);
# the NodePort target decides for every other address
expect "NodePort on any address, with a Service IP target on one node address" \
	"$(clean 4 any 30053 $B -- 4 10.0.0.3 30053 $A)" 1
expect "  the stale entry via 10.0.0.1 went, the one the Service IP target keeps stayed" \
	"$(flows 4 | tr ' ' '\n' | grep 30053 | tr '\n' ' ')" "10006>10.0.0.3:30053@$A 10007>10.0.0.1:30053@$B "
expect "NodePort alone: the stale entry on the second node address goes" "$(clean 4 any 30053 $B)" 1
expect "  the current one stays" "$(flows 4 | tr ' ' '\n' | grep -c 30053)" 1

# --- IPv6, and both families in one call ----------------------------------------------
rules $A $A6
send 20001 $VIP6 53 x && send 20003 fd00::1 30053 x
rules $B $B6
send 20002 $VIP6 53 x
expect "IPv6 entries" "$(flows 6)" \
	"20001>$VIP6:53@$A6 20002>$VIP6:53@$B6 20003>fd00::1:30053@$A6"
expect "one call for IPv6 Service IP, IPv6 NodePort and IPv4 deletes the stale IPv6 two" \
	"$(clean 6 $VIP6 53 $B6 -- 6 any 30053 $B6 -- 4 $VIP 53 $B)" 2
expect "  the current IPv6 entry stays" "$(flows 6)" "20002>$VIP6:53@$B6"
expect "IPv6 Service with no endpoints" "$(clean 6 $VIP6 53)" 1
expect "IPv4 entries untouched by the IPv6 cleanups" "$(flows 4 | wc -w)" 5
expect "the client netns keeps its own entries" "$(flows 4 "$C" | wc -w)" 8

# --- refusals ----------------------------------------------------------------------
clean 4 fd00::1 53 >/dev/null
expect "a target whose address is of another family is refused" "$?:$(cat "$TMP/stderr")" \
	"1:pn-ct-clean: conntrack target 0: destination of another family (0 deleted)"
clean 4 $VIP 53 $A6 >/dev/null
expect "a keep address of another family is refused" "$?:$(cat "$TMP/stderr")" \
	"1:pn-ct-clean: conntrack target 0: endpoint 0 of another family (0 deleted)"
expect "a refused call deleted nothing" "$(flows 4 | wc -w)" 5
expect "a netns without conntrack users has nothing to delete" "$(ip netns exec "$E" "$CT" 4 any 53)" 0

# --- conntrack zones: an entry is deleted in its own zone ---------------------------
ip netns exec "$N" nft -f - <<NFT
table ip pnzone {
	chain raw {
		type filter hook prerouting priority raw;
		udp sport 50000 ct zone set 7
		udp sport 50001 ct original zone set 8
	}
}
NFT
expect "zone rules load" "$?" 0
rules $A $A6
send 50000 $VIP 53 x && send 50001 $VIP 53 x
rules $B $B6
expect "the dump shows both zones" "$(ip netns exec "$N" "$CT" list 4 udp | grep -o 'sport=5000[01] .*zone=.*' | sed 's/ .* / /' | sort)" \
	"sport=50000 zone=7
sport=50001 zone=8-orig"
expect "stale entries in a zone and in an original-direction zone are deleted" "$(clean 4 $VIP 53 $B)" 2
expect "  both are gone" "$(flows 4 | grep -c '>5000[01]')" 0

# --- many flows: a dump of many replies, deletes in many batches ---------------------
rules $A $A6
send 30000 $VIP 53 x 3000
rules $B $B6
send 40000 $VIP 53 x 500
expect "3000 stale flows of 3503 to the Service are deleted" "$(clean 4 $VIP 53 $B)" 3000
expect "  the 503 on B stay" "$(flows 4 | tr ' ' '\n' | grep -c ">$VIP:53@$B$")" 503
expect "  and the flow on the other port" "$(flows 4 | tr ' ' '\n' | grep -c ":54@")" 1

finish
