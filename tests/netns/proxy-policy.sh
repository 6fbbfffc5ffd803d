#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podnet-proxy policies and edge cases (issue 5 §6), on the topology of proxy-lib.sh with a
# proxy on both nodes (the same objects in each node's manifest dir):
# externalTrafficPolicy Local (source kept, local endpoints only, no local endpoint: the
# NodePort does not answer, pods still get the Cluster policy), internalTrafficPolicy
# Local, externalIPs, a LoadBalancer with loadBalancerSourceRanges (edited; its NodePort
# bypasses them), UDP flows moved off a replaced endpoint and off a Service that dropped to
# zero endpoints (stale conntrack), IPv6 and dual-stack, restarts under load (SIGTERM and
# kill -9: no failed connection, one table of ours), SCTP in the ruleset, 2,000 Services,
# topology hints with the node's zone from a Node manifest.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxy-lib.sh"

topology
for p in web1:a web2:a web3:b u1:a; do pod "${p#*:}" "${p%:*}" 8080 || exit 1; done
pod a client || exit 1
pod b clientb || exit 1
W1="${POD4[web1]} node-a" W2="${POD4[web2]} node-a" W3="${POD4[web3]} node-b"
W61="${POD6[web1]} node-a" W62="${POD6[web2]} node-a" W63="${POD6[web3]} node-b"

# svc NAME CLUSTERIP PORTS [spec lines...]: a Service manifest (PORTS: a YAML flow list's items)
svc() {
	local name=$1 ip=$2 ports=$3 l; shift 3
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec:\n  clusterIP: %s\n  ports: [%s]\n' \
		"$name" "$ip" "$ports"
	for l in "$@"; do printf '  %s\n' "$l"; done
}
TCP80="{name: p, port: 80, protocol: TCP, targetPort: 8080"

{
	svc loc 10.96.0.30 "$TCP80, nodePort: 30081}" "type: NodePort" "externalTrafficPolicy: Local"
	echo ---; slice_yaml loc loc-1 8080 TCP "$W1" "$W2" "$W3"
	echo ---; svc loc-a 10.96.0.31 "$TCP80, nodePort: 30082}" "type: NodePort" "externalTrafficPolicy: Local"
	echo ---; slice_yaml loc-a loc-a-1 8080 TCP "$W1" "$W2"
	echo ---; svc itl 10.96.0.32 "$TCP80}" "internalTrafficPolicy: Local"
	echo ---; slice_yaml itl itl-1 8080 TCP "$W1" "$W3"
	echo ---; svc itl-a 10.96.0.33 "$TCP80}" "internalTrafficPolicy: Local"
	echo ---; slice_yaml itl-a itl-a-1 8080 TCP "$W1" "$W2"
} | publish policy.yaml a b
{
	svc extip 10.96.0.34 "$TCP80}" "externalIPs: [203.0.113.10]"
	echo ---; slice_yaml extip extip-1 8080 TCP "$W1" "$W2" "$W3"
} | publish extip.yaml a b
lb_yaml() {  # RANGES: a LoadBalancer Service at 203.0.113.20 with these loadBalancerSourceRanges
	svc lb 10.96.0.35 "$TCP80, nodePort: 30085}" "type: LoadBalancer" "loadBalancerSourceRanges: [$1]"
	printf 'status:\n  loadBalancer:\n    ingress: [{ip: 203.0.113.20}]\n---\n'
	slice_yaml lb lb-1 8080 TCP "$W1" "$W2" "$W3"
}
lb_yaml 192.0.2.100/32 | publish lb.yaml a b
dns_yaml() {  # "IP NODE"...: a UDP Service 10.96.0.40:53 -> 8080 with these endpoints
	svc dns 10.96.0.40 "{name: p, port: 53, protocol: UDP, targetPort: 8080}"
	echo ---; slice_yaml dns dns-1 8080 UDP "$@"
}
dns_yaml "${POD4[u1]} node-a" | publish dns.yaml a b
{
	svc sctp 10.96.0.50 "{name: p, port: 9000, protocol: SCTP, targetPort: 9000}"
	echo ---; slice_yaml sctp sctp-1 9000 SCTP "$W1"
	echo ---; svc rs 10.96.0.60 "$TCP80}"
	echo ---; slice_yaml rs rs-1 8080 TCP "$W1" "$W2" "$W3"
	# the connection held across restarts goes to a pod of its own: pn-echo serves one
	# connection at a time, a held one would stall the load's connections to its server
	echo ---; svc held 10.96.0.61 "$TCP80}"
	echo ---; slice_yaml held held-1 8080 TCP "${POD4[u1]} node-a"
} | publish misc.yaml a b
start_proxy a || exit 1
start_proxy b || exit 1

# --- externalTrafficPolicy Local ---
answers "$EXT" 20 "${NODE_IP[a]}" 30081
expect "eTP Local: NodePort on node a from ext: only node a's endpoints serve" "$NAMES" "web1 web2"
ask "$EXT" "${NODE_IP[a]}" 30081
expect "eTP Local: the endpoint sees the ext client's own address (source preserved)" "${ANS#* }" "${NODE_IP[ext]}"
answers "$EXT" 10 "${NODE_IP[b]}" 30081
expect "eTP Local: NodePort on node b from ext: only node b's endpoint serves" "$NAMES" "web3"
ask "$EXT" "${NODE_IP[b]}" 30081
expect "eTP Local: node b's endpoint sees the ext client's own address" "${ANS#* }" "${NODE_IP[ext]}"
ask "$EXT" -t 500 "${NODE_IP[b]}" 30082
expect_match "eTP Local, no endpoint on node b: its NodePort does not answer ext (exit $ARC)" "$ARC" "^[1-9]"
answers "$P-clientb" 20 10.96.0.31 80
expect "eTP Local, no endpoint on node b: a pod on node b reaches the ClusterIP (every endpoint)" "$NAMES" "web1 web2"
answers "$P-clientb" 10 "${NODE_IP[b]}" 30082
expect "eTP Local: a pod on node b reaching node b's NodePort gets the Cluster policy (short-circuit)" "$NAMES" "web1 web2"

# --- internalTrafficPolicy Local ---
answers "$P-client" 20 10.96.0.32 80
expect "iTP Local: a pod on node a reaches only node a's endpoint" "$NAMES" "web1"
answers "$P-clientb" 20 10.96.0.32 80
expect "iTP Local: a pod on node b reaches only node b's endpoint" "$NAMES" "web3"
ask "$P-clientb" -t 500 10.96.0.33 80
expect "iTP Local, no endpoint on node b: the ClusterIP gets no answer (dropped, exit 28)" "$ARC" 28
answers "$P-client" 20 10.96.0.33 80
expect "iTP Local: the same Service from node a: its local endpoints serve" "$NAMES" "web1 web2"

# --- topology hints: node a's zone comes from its Node object in the manifest directory ---
zone_slice() {  # endpoints with hints: web1 for zone z1 (and node-a), web3 for zone z2
	cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: topo, namespace: default}
spec:
  clusterIP: 10.96.0.70
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: topo-1, namespace: default, labels: {kubernetes.io/service-name: topo}}
addressType: IPv4
ports: [{name: p, port: 8080, protocol: TCP}]
endpoints:
- {addresses: ["${POD4[web1]}"], nodeName: node-a, hints: {forZones: [{name: z1}]$1}}
- {addresses: ["${POD4[web3]}"], nodeName: node-b, hints: {forZones: [{name: z2}]$2}}
YAML
}
zone_slice "" "" | publish topo.yaml a
only_topo() { answers "$P-client" 12 10.96.0.70 80 -t 300; [[ $NAMES == "$1" ]]; }
until_true 2 only_topo "web1 web3"; expect "topology: node a has no zone yet: the zone hints are ignored" "$?" 0
printf 'apiVersion: v1\nkind: Node\nmetadata: {name: node-a, labels: {topology.kubernetes.io/zone: z2}}\n' | publish node.yaml a
until_true 2 only_topo web3; expect "topology: node a's Node says zone z2: only the endpoint for z2 serves (${WAITED} ms)" "$?" 0
zone_slice ", forNodes: [{name: node-a}]" ", forNodes: [{name: node-b}]" | publish topo.yaml a
until_true 2 only_topo web1; expect "topology: node hints for every endpoint: only the one for node-a serves (${WAITED} ms)" "$?" 0

# --- externalIPs, LoadBalancer and loadBalancerSourceRanges ---
answers "$EXT" 30 203.0.113.10 80
expect "externalIPs: reachable from ext, every endpoint serves" "$NAMES" "web1 web2 web3"
answers "$EXT" 30 203.0.113.20 80
expect "LoadBalancer IP: ext (192.0.2.100/32 in loadBalancerSourceRanges) served by every endpoint" "$NAMES" "web1 web2 web3"
lb_yaml 198.51.100.0/24 | publish lb.yaml a b
blocked() { ask "$EXT" -t 300 203.0.113.20 80; [[ $ARC -ne 0 ]]; }
until_true 2 blocked
expect "loadBalancerSourceRanges edited to another range: ext is cut off within 2 s (${WAITED} ms)" "$?" 0
ask "$EXT" -t 500 203.0.113.20 80
expect "  dropped (no answer, exit 28)" "$ARC" 28
answers "$EXT" 30 "${NODE_IP[a]}" 30085
expect "  the same Service's NodePort bypasses loadBalancerSourceRanges" "$NAMES" "web1 web2 web3"
lb_yaml "198.51.100.0/24, 192.0.2.0/24" | publish lb.yaml a b
allowed() { ask "$EXT" -t 300 203.0.113.20 80; [[ $ARC -eq 0 ]]; }
until_true 2 allowed
expect "ext's range listed again: served again within 2 s (${WAITED} ms)" "$?" 0

# --- UDP: a fixed source port follows endpoint changes (stale conntrack removed) ---
from() { ask "$P-client" -u -s 12345 -t 300 10.96.0.40 53; [[ $ARC -eq 0 && ${ANS%% *} == "$1" ]]; }
until_true 2 from u1
expect "UDP Service 53 -> 8080: answered by its endpoint (${ANS:-exit $ARC})" "$?" 0
for _ in 1 2 3; do ask "$P-client" -u -s 12345 -t 300 10.96.0.40 53; done
pod b u2 8080 || exit 1
dns_yaml "${POD4[u2]} node-b" | publish dns.yaml a b
until_true 2 from u2
expect "UDP endpoint replaced: the same client port reaches the new pod within 2 s (${WAITED} ms; last: ${ANS:-exit $ARC})" "$?" 0
ask "$P-client" -u -t 300 "${POD4[u1]}" 8080
expect "  the old pod still answers (a stale flow would still reach it)" "${ANS%% *}" u1
dns_yaml | publish dns.yaml a b
refused() { ask "$P-client" -u -s 12345 -t 300 10.96.0.40 53; [[ $ARC -eq 7 ]]; }
until_true 2 refused
expect "UDP Service down to zero endpoints: the client's flow leaves the old endpoint, refused within 2 s (${WAITED} ms; last: ${ANS:-exit $ARC})" "$?" 0
for _ in 1 2 3; do ask "$P-client" -u -s 12345 -t 300 10.96.0.40 53; done
pod a u3 8080 || exit 1
dns_yaml "${POD4[u3]} node-a" | publish dns.yaml a b
until_true 2 from u3
expect "UDP Service from zero to a new endpoint: the same client port reaches it within 2 s (${WAITED} ms; last: ${ANS:-exit $ARC})" "$?" 0

# --- SCTP: no SCTP sockets here, but the Service port is in the ruleset ---
T4=$(our_table a ip)
expect_match "SCTP Service port: an element 'sctp . 9000' of @service-ips" \
	"$(ip netns exec "$P-a" nft list map ip "$T4" service-ips)" "10\.96\.0\.50 \. sctp \. 9000 : goto clusterip"
expect_match "SCTP Service port: its endpoint in @cluster-backends" \
	"$(ip netns exec "$P-a" nft list map ip "$T4" cluster-backends)" "10\.96\.0\.50 \. sctp \. 9000 \. 0 : ${POD4[web1]//./\\.} \. 9000"

# --- restart under load: SIGTERM, then kill -9 ---
# load N: N new connections from the client pod to 10.96.0.60:80, one line "rc CODE" each
load() {
	ip netns exec "$P-client" bash -c 'for ((i = 0; i < $1; i++)); do "$0" ask -t 1000 10.96.0.60 80 >/dev/null; echo "rc $?"; sleep 0.01; done' \
		"$ECHO" "$1"
}
restart_under_load() {  # HOW (TERM or KILL)
	local lp hp
	load 200 > "$TMP/load" & lp=$!
	( ask "$P-client" -k 3000 10.96.0.61 80; echo "$ARC $ANS" > "$TMP/held" ) & hp=$!
	started() { [[ $(wc -l < "$TMP/load") -ge 50 ]]; }
	until_true 10 started
	kill -"$1" "${PROXY_PID[a]}"; wait "${PROXY_PID[a]}" 2>/dev/null
	start_proxy a
	expect "SIG$1 under load: podnet-proxy restarted" "$?" 0
	wait "$lp" "$hp"
	expect "SIG$1 under load: 200 new connections during the restart, zero failures" \
		"$(grep -c '^rc 0$' "$TMP/load")/$(wc -l < "$TMP/load")" "200/200"
	grep -v '^rc 0$' "$TMP/load" | sort | uniq -c | sed 's/^/#   /'
	expect_match "SIG$1 under load: the connection established before the restart got its answer" \
		"$(cat "$TMP/held" 2>/dev/null)" "^0 u1 ${POD4[client]//./\\.}$"
	expect "SIG$1 under load: exactly one table of ours per family afterwards" \
		"$(our_tables a | awk '{print $1}' | sort | tr '\n' ' ')" "ip ip6 "
}
restart_under_load TERM
restart_under_load KILL
answers "$P-client" 30 10.96.0.60 80
expect "after the restarts the Service serves with every endpoint" "$NAMES" "web1 web2 web3"
answers "$EXT" 10 "${NODE_IP[a]}" 30081
expect "after the restarts eTP Local still serves only node a's endpoints" "$NAMES" "web1 web2"

# --- IPv6 and dual-stack (last on nodes a and b) ---
{
	svc dual 10.96.0.20 "$TCP80, nodePort: 30020}" "type: NodePort" 'clusterIPs: [10.96.0.20, "fd00:96::20"]' \
		"ipFamilies: [IPv4, IPv6]" "ipFamilyPolicy: RequireDualStack"
	echo ---; slice_yaml dual dual-4 8080 TCP "$W1" "$W2" "$W3"
	echo ---; slice_yaml dual dual-6 8080 TCP "$W61" "$W62" "$W63"
	echo ---; svc dual-u 10.96.0.21 "{name: p, port: 53, protocol: UDP, targetPort: 8080}" \
		'clusterIPs: [10.96.0.21, "fd00:96::21"]' "ipFamilies: [IPv4, IPv6]" "ipFamilyPolicy: RequireDualStack"
	echo ---; slice_yaml dual-u dual-u-6 8080 UDP "$W61" "$W62" "$W63"
	echo ---; svc empty6 '"fd00:96::22"' "$TCP80}" "ipFamilies: [IPv6]" "ipFamilyPolicy: SingleStack"
	echo ---; slice_yaml empty6 empty6-1 8080 TCP | sed 's/^addressType: IPv4$/addressType: IPv6/'
} | publish dual.yaml a b
# probe NS N ADDR PORT [ask flags]: answers, but a first failed ask ends it (NAMES "exit CODE"):
# nothing to wait 30 times for when the daemon has died
probe() {
	ask "$1" "${@:5}" "$3" "$4"
	if [[ $ARC -ne 0 ]]; then NAMES="exit $ARC"; return; fi
	answers "$@"
}
alive() { kill -0 "${PROXY_PID[a]}" 2>/dev/null && kill -0 "${PROXY_PID[b]}" 2>/dev/null; }
settled() { ! alive || ip netns exec "$P-a" nft list map ip6 "$(our_table a ip6)" service-ips | grep -q 'fd00:96::20 \. tcp \. 80 '; }
until_true 3 settled
expect_true "dual-stack Services with IPv6 endpoints: podnet-proxy on both nodes keeps running" alive
probe "$P-client" 30 fd00:96::20 80
expect "IPv6 ClusterIP over TCP: every endpoint serves" "$NAMES" "web1 web2 web3"
ask "$P-client" fd00:96::20 80
expect "  the pod's own IPv6 address reaches the endpoint" "${ANS#* }" "${POD6[client]}"
probe "$P-client" 30 10.96.0.20 80
expect "dual-stack: the IPv4 ClusterIP of the same Service serves too" "$NAMES" "web1 web2 web3"
probe "$P-client" 30 fd00:96::21 53 -u
expect "IPv6 ClusterIP over UDP: every endpoint serves" "$NAMES" "web1 web2 web3"
probe "$EXT" 30 "${NODE_IP6[a]}" 30020
expect "IPv6 NodePort from ext (node a's 2001:db8::1): every endpoint serves" "$NAMES" "web1 web2 web3"
ask "$P-client" -t 3000 fd00:96::22 80
expect "IPv6 Service without endpoints: refused (exit 7)" "$ARC" 7

# --- scale: 2,000 Services x 5 endpoints in one file, then one endpoint changes ---
netns_add "$P-s"
ip -n "$P-s" link set lo up
start_proxy s || exit 1
# scale_yaml NEW: Service s0..s1999 (10.96.10.1 ...), endpoints 10.250.X.Y:8080; s1000's
# third endpoint is NEW when given
scale_yaml() {
	awk -v new="$1" 'BEGIN {
		for (i = 0; i < 2000; i++) {
			printf "apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: default}\n", i
			printf "spec: {clusterIP: 10.96.%d.%d, ports: [{name: p, port: 80, protocol: TCP}]}\n---\n", 10 + int(i / 250), i % 250 + 1
			printf "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
			printf "metadata: {name: s%d-1, namespace: default, labels: {kubernetes.io/service-name: s%d}}\n", i, i
			printf "addressType: IPv4\nports: [{name: p, port: 8080, protocol: TCP}]\nendpoints:\n"
			for (j = 0; j < 5; j++) {
				a = sprintf("10.250.%d.%d", int(i / 50), 5 * (i % 50) + j + 1)
				if (i == 1000 && j == 2 && new != "") a = new
				printf "- {addresses: [\"%s\"], nodeName: node-x, conditions: {ready: true}}\n", a
			}
			if (i < 1999) print "---"
		}
	}'
}
scale_yaml "" | publish scale.yaml s
ports_are() { [[ $(metric s podnet_proxy_sync_proxy_rules_service_ports) == "$1" ]]; }
until_true 30 ports_are 2000
expect "2,000 Services in one file: /metrics service_ports reaches 2000 (${WAITED} ms; now $(metric s podnet_proxy_sync_proxy_rules_service_ports))" "$?" 0
expect "  and 10,000 endpoints" "$(metric s podnet_proxy_sync_proxy_rules_endpoints)" 10000
TS=$(our_table s ip)
expect "  every endpoint in @cluster-backends" \
	"$(ip netns exec "$P-s" nft list map ip "$TS" cluster-backends | grep -c ' \. 8080')" 10000
scale_yaml 10.251.0.1 | publish scale.yaml s
# s1000 is 10.96.14.1 (10 + 1000/250 = 14, 1000 % 250 + 1 = 1)
changed() { ip netns exec "$P-s" nft list map ip "$TS" cluster-backends | grep -q '10\.96\.14\.1 \. tcp \. 80 \. [0-4] : 10\.251\.0\.1 \. 8080'; }
until_true 1 changed
expect "one endpoint of one Service of 2,000 changed: in @cluster-backends within 1 s (${WAITED} ms)" "$?" 0
expect "  the old endpoint is gone, the Service keeps 5 endpoints" \
	"$(ip netns exec "$P-s" nft list map ip "$TS" cluster-backends | grep -c '10\.96\.14\.1 \. tcp \. 80 \. ')/$(ip netns exec "$P-s" nft list map ip "$TS" cluster-backends | grep -c '10\.250\.20\.3 \. 8080')" "5/0"
finish
