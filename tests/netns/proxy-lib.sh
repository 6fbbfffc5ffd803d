# SPDX-License-Identifier: Apache-2.0
# The proxy tests' topology (DESIGN.md), sourced after lib.sh:
#
#            [ fabric netns: bridge "fab" ]        192.0.2.0/24, 2001:db8::/64
#             │               │               │
#     [node a] .1       [node b] .2       [ext] .100      ext routes the Service and
#      cni0 10.244.1.1   cni0 10.244.2.1                   external ranges via node a
#      fd00:244:1::1     fd00:244:2::1
#      ├ pods            ├ pods            pods: our bridge + host-local, dual-stack
#
# Nodes route each other's pod CIDR over the fabric (host-gw).  Pods run pn-echo servers
# that answer "NAME CLIENT_ADDRESS"; bridge ports are in hairpin mode (with
# br_netfilter, a pod reaching itself through a Service is bridged back out of its port).  podnet-proxy runs in a node netns on a manifest dir.
ECHO=$TOP/$BUILD/tests/pn-echo
PROXY=$BIN/podnet-proxy
FAB=$P-fab EXT=$P-ext
declare -A NODE_IP=([a]=192.0.2.1 [b]=192.0.2.2 [ext]=192.0.2.100) NODE_IP6=([a]=2001:db8::1 [b]=2001:db8::2 [ext]=2001:db8::100)
declare -A NUM=([a]=1 [b]=2) POD4 POD6 POD_NODE PROXY_PID

fabric_port() {  # NS NAME
	ip -n "$FAB" link add "${P}$2" type veth peer name eth0 netns "$1"
	ip -n "$FAB" link set "${P}$2" master fab up
	ip -n "$1" addr add "${NODE_IP[$2]}/24" dev eth0
	ip -n "$1" addr add "${NODE_IP6[$2]}/64" dev eth0 nodad
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
}

topology() {
	local n
	netns_add "$FAB"
	ip -n "$FAB" link add fab type bridge
	ip -n "$FAB" link set fab up
	for n in a b; do
		netns_add "$P-$n"
		fabric_port "$P-$n" "$n"
		ip netns exec "$P-$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	ip -n "$P-a" route add 10.244.2.0/24 via 192.0.2.2
	ip -n "$P-b" route add 10.244.1.0/24 via 192.0.2.1
	ip -n "$P-a" -6 route add fd00:244:2::/64 via 2001:db8::2
	ip -n "$P-b" -6 route add fd00:244:1::/64 via 2001:db8::1
	# a node routes what it does not know to a gateway (ext here): traffic to a Service
	# address with no endpoint must be routed before the filter hooks can refuse it
	for n in a b; do
		ip -n "$P-$n" route add default via 192.0.2.100
		ip -n "$P-$n" -6 route add default via 2001:db8::100
	done
	netns_add "$EXT"
	fabric_port "$EXT" ext
	# ext reaches Service, external and load-balancer addresses through node a
	ip -n "$EXT" route add 10.96.0.0/16 via 192.0.2.1
	ip -n "$EXT" route add 203.0.113.0/24 via 192.0.2.1
	ip -n "$EXT" -6 route add fd00:96::/64 via 2001:db8::1
}

# pod NODE NAME [PORT...]: a pod on NODE's bridge; pn-echo answers on each PORT (TCP and UDP)
pod() {
	local n=$1 name=$2 port; shift 2
	netns_add "$P-$name"
	ip -n "$P-$name" link set lo up
	cat > "$TMP/bridge-$n.json" <<JSON
{"cniVersion":"1.0.0","name":"pods","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,"hairpinMode":true,
 "ipam":{"type":"host-local","dataDir":"$TMP/ipam-$n","ranges":[[{"subnet":"10.244.${NUM[$n]}.0/24"}],[{"subnet":"fd00:244:${NUM[$n]}::/64"}]],
  "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]}}
JSON
	NODE=$P-$n CNI_NETNS_PATH=/run/netns/$P-$name cni "$BIN/bridge" ADD "$name" < "$TMP/bridge-$n.json"
	if [[ $RC -ne 0 ]]; then echo "# pod $name: $OUT $(cat "$TMP/stderr")"; return 1; fi
	POD4[$name]=$(ip -n "$P-$name" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
	POD6[$name]=$(ip -n "$P-$name" -6 -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1)
	POD_NODE[$name]=node-$n
	for port in "$@"; do
		ip netns exec "$P-$name" "$ECHO" serve "$port" "$name" & at_exit "kill $!"
		ip netns exec "$P-$name" "$ECHO" serve -u "$port" "$name" & at_exit "kill $!"
	done
	sleep 0.1
}

# ask NS [pn-echo ask args...]: the answer in $ANS, the exit status in $ARC
ask() {
	local ns=$1; shift
	ANS=$(ip netns exec "$ns" "$ECHO" ask "$@" 2>/dev/null)
	ARC=$?
}

# start_proxy NODE [flags...]: podnet-proxy in node NODE on $TMP/manifests-NODE; waits for /healthz.
# --cluster-cidr holds every pod subnet (10.244.N.0/24, fd00:244:N::/64); PROXY_CLUSTER_CIDR
# overrides it.
start_proxy() {
	local n=$1 i; shift
	mkdir -p "$TMP/manifests-$n"
	ip netns exec "$P-$n" "$PROXY" --manifests "$TMP/manifests-$n" --node-name "node-$n" \
		--cluster-cidr "${PROXY_CLUSTER_CIDR:-10.244.0.0/16,fd00:244::/32}" "$@" >>"$TMP/proxy-$n.log" 2>&1 &
	PROXY_PID[$n]=$!
	at_exit "kill ${PROXY_PID[$n]}"
	for ((i = 0; i < 50; i++)); do
		[[ $(ip netns exec "$P-$n" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz) == 200 ]] && return 0
		sleep 0.1
	done
	echo "# podnet-proxy on node $n did not become healthy:"; sed 's/^/#   /' "$TMP/proxy-$n.log"
	return 1
}
stop_proxy() { kill "${PROXY_PID[$1]}" 2>/dev/null; wait "${PROXY_PID[$1]}" 2>/dev/null; }

# service FILE NAME CLUSTERIP [yaml spec lines...]: writes a Service manifest (ports come from spec lines)
# slice FILE SERVICE SLICE PORT PROTO "IP NODE [ready]"...: an EndpointSlice; family from the first IP
slice_yaml() {
	local svc=$1 name=$2 port=$3 proto=$4 e ip node ready fam=IPv4; shift 4
	[[ ${1:-} == *:* ]] && fam=IPv6
	cat <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name
  namespace: default
  labels:
    kubernetes.io/service-name: $svc
addressType: $fam
ports:
- name: p
  port: $port
  protocol: $proto
endpoints:
YAML
	for e in "$@"; do
		read -r ip node ready <<<"$e"
		printf -- '- addresses: ["%s"]\n  nodeName: %s\n  conditions: {ready: %s}\n' "$ip" "$node" "${ready:-true}"
	done
	[[ $# -gt 0 ]] || echo "  []"
}
# until_true SECONDS CMD...: retries CMD every 50 ms for up to SECONDS; the time it took in $WAITED (ms)
until_true() {
	local limit=$1 t0; shift
	t0=$(date +%s%N)
	while :; do
		"$@" && { WAITED=$(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
		(( ($(date +%s%N) - t0) / 1000000 > limit * 1000 )) && { WAITED=-1; return 1; }
		sleep 0.05
	done
}
# answers NS N ADDR PORT [ask flags]: N answers, the set of names that answered in $NAMES
answers() {
	local ns=$1 n=$2 addr=$3 port=$4 i; shift 4
	NAMES=$(for ((i = 0; i < n; i++)); do ask "$ns" "$@" "$addr" "$port"; echo "${ANS%% *}"; done | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
	NAMES=${NAMES% }
}

# publish FILE NODE...: stdin becomes FILE in each NODE's manifest dir, written aside and
# renamed (a daemon never reads half a file; names starting with a dot are not read)
publish() {
	local f=$1 n; shift
	cat > "$TMP/.publish"
	for n in "$@"; do
		mkdir -p "$TMP/manifests-$n"
		cp "$TMP/.publish" "$TMP/manifests-$n/.$f" && mv "$TMP/manifests-$n/.$f" "$TMP/manifests-$n/$f"
	done
}
# our_tables NODE: our nftables tables in NODE's netns, "FAMILY NAME" a line
our_tables() { ip netns exec "$P-$1" nft list tables | sed -En 's/^table (ip6? podnet-proxy(-b)?)$/\1/p'; }
# our_table NODE FAMILY: the name of our table of FAMILY (ip, ip6) in NODE (first if several)
our_table() { our_tables "$1" | awk -v f="$2" '$1 == f { print $2; exit }'; }
# metric NODE NAME: the value of an unlabelled metric on NODE's /metrics
metric() { ip netns exec "$P-$1" curl -s http://127.0.0.1:10249/metrics | awk -v m="$2" '$1 == m { print $2 }'; }
