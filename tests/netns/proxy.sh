#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podnet-proxy on nftables, on the topology of proxy-lib.sh: ClusterIP load balancing over
# every endpoint, manifest edits applied within a second, sessionAffinity, NodePort from
# the ext netns, no endpoints refused at once, a closed port on a ClusterIP refused,
# hairpin, a broken manifest changing nothing, a flushed ruleset rebuilt, our ruleset as nft
# itself would write it, --nodeport-addresses, and --cleanup.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxy-lib.sh"

topology
for p in web1:a web2:a web3:b; do pod "${p#*:}" "${p%:*}" 8080 || exit 1; done
pod a client || exit 1
pod a client2 || exit 1
M=$TMP/manifests-a
mkdir -p "$M"
SVC="apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
---"
slice() { echo "$SVC"; slice_yaml web web-1 8080 TCP "$@"; }
slice "${POD4[web1]} node-a" "${POD4[web2]} node-a" "${POD4[web3]} node-b" > "$M/web.yaml"
start_proxy a --sync-period 1s || exit 1

# --- a real HTTP server (busybox httpd) behind a Service, fetched with curl ---
BB=$(command -v busybox) || { not_ok "busybox (Debian busybox-static) is installed"; exit 1; }
pod a www || exit 1
mkdir -p "$TMP/www" && echo "hello from www" > "$TMP/www/index.html"
ip netns exec "$P-www" "$BB" httpd -f -p 8000 -h "$TMP/www" & at_exit "kill $!"
cat > "$M/www.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: www, namespace: default}
spec:
  clusterIP: 10.96.0.40
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8000}]
---
$(slice_yaml www www-1 8000 TCP "${POD4[www]} node-a")
YAML

# --- ClusterIP ---
answers "$P-client" 40 10.96.0.10 80
expect "ClusterIP: every endpoint serves some of 40 connections" "$NAMES" "web1 web2 web3"
ask "$P-client" 10.96.0.10 80
expect "ClusterIP: the pod's own address reaches the endpoint (not masqueraded)" "${ANS#* }" "${POD4[client]}"
www() { ip netns exec "$P-client" curl -s -m 2 http://10.96.0.40/; }
until_true 2 www >/dev/null
expect "busybox httpd behind a ClusterIP: curl gets the page" "$(www)" "hello from www"

# --- NodePort from outside the cluster ---
answers "$EXT" 30 "${NODE_IP[a]}" 30080
expect "NodePort from ext: every endpoint serves" "$NAMES" "web1 web2 web3"
ask "$EXT" "${NODE_IP[a]}" 30080
expect_match "NodePort from ext (eTP Cluster): masqueraded to the node" "${ANS#* }" "^(10\.244\.1\.1|192\.0\.2\.1)$"

# --- manifest edits take effect within a second ---
only() { answers "$P-client" 12 10.96.0.10 80 -t 300; [[ $NAMES == "$1" ]]; }
slice "${POD4[web1]} node-a" > "$M/.web.tmp" && mv "$M/.web.tmp" "$M/web.yaml"
until_true 1 only web1; expect "scale down to one endpoint: applied within 1 s (${WAITED} ms)" "$?" 0
slice "${POD4[web1]} node-a" "${POD4[web2]} node-a" > "$M/web.yaml"
until_true 1 only "web1 web2"; expect "scale up to two endpoints: applied within 1 s (${WAITED} ms)" "$?" 0
gone() { ask "$P-client" -t 300 10.96.0.10 80; [[ $ARC -ne 0 ]]; }
mv "$M/web.yaml" "$TMP/web.yaml.saved"
until_true 1 gone; expect "Service deleted: 10.96.0.10:80 stops answering within 1 s (${WAITED} ms)" "$?" 0
mv "$TMP/web.yaml.saved" "$M/web.yaml"
until_true 1 only "web1 web2"; expect "Service back: answers again within 1 s (${WAITED} ms)" "$?" 0

# --- a broken manifest changes nothing ---
before=$(ip netns exec "$P-a" nft list table ip podnet-proxy)
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default\nspec: [\n' > "$M/web.yaml"
echo '{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "x"}, "spec": {"clusterIP": "999.1.1.1"}}' > "$M/bad.json"
sleep 0.5
expect "broken manifests: the ruleset is unchanged" "$(ip netns exec "$P-a" nft list table ip podnet-proxy)" "$before"
answers "$P-client" 12 10.96.0.10 80
expect "broken manifests: the Service still answers" "$NAMES" "web1 web2"
expect_match "broken manifests: the daemon says which file" "$(cat "$TMP/proxy-a.log")" "web\.yaml"
rm -f "$M/bad.json"

# --- sessionAffinity, no endpoints, closed port, hairpin ---
cat > "$M/web.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.10
  sessionAffinity: ClientIP
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]
---
$(slice_yaml web web-1 8080 TCP "${POD4[web1]} node-a" "${POD4[web2]} node-a" "${POD4[web3]} node-b")
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: default}
spec:
  clusterIP: 10.96.0.11
  ports: [{name: p, port: 80, protocol: TCP}]
---
$(slice_yaml empty empty-1 8080 TCP)
---
apiVersion: v1
kind: Service
metadata: {name: self, namespace: default}
spec:
  clusterIP: 10.96.0.12
  ports: [{name: p, port: 80, protocol: TCP}]
---
$(slice_yaml self self-1 8080 TCP "${POD4[web1]} node-a")
YAML
pinned() { answers "$P-client" 15 10.96.0.10 80; [[ $NAMES =~ ^web[123]$ ]]; }
until_true 2 pinned; expect "sessionAffinity ClientIP: 15 connections from one client reach one endpoint ($NAMES)" "$?" 0
answers "$P-client2" 15 10.96.0.10 80
expect_match "sessionAffinity: another client is pinned too" "$NAMES" "^web[123]$"
# the default timeout (10800 s) on the endpoint's set, with the client's address in it
aff=$(ip netns exec "$P-a" nft list table ip "$(our_table a ip)" | grep -A8 "set affinity-default/web/tcp/p__" | tr -d '\n\t')
expect_match "sessionAffinity: per-endpoint sets with timeout 10800 s hold the client" "$aff" "timeout 3h.*${POD4[client]//./\\.}"
# timeoutSeconds 2: after 2 s without a new connection the client is forgotten
sed -i 's/  sessionAffinity: ClientIP/  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 2}}/' "$M/web.yaml"
two() { ip netns exec "$P-a" nft list table ip "$(our_table a ip)" | grep -q "timeout 2s"; }
until_true 2 two; expect "sessionAffinity timeoutSeconds 2: the sets' timeout follows (${WAITED} ms)" "$?" 0
ask "$P-client" 10.96.0.10 80
held() { ip netns exec "$P-a" nft list table ip "$(our_table a ip)" | grep -A8 "set affinity-default/web" | grep -q "${POD4[client]} "; }
expect_true "sessionAffinity timeoutSeconds 2: the client is in a set after a connection" held
sleep 2.5
expect "sessionAffinity timeoutSeconds 2: 2.5 s later the client is no longer pinned" "$(held && echo pinned || echo forgotten)" forgotten
t0=$(date +%s%N); ask "$P-client" -t 3000 10.96.0.11 80; dt=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "no endpoints: connection refused (exit 7), at once (${dt} ms)" "$ARC" 7
ask "$P-client" -t 3000 10.96.0.10 81
expect "a port the ClusterIP does not serve: refused" "$ARC" 7
ask "$P-web1" 10.96.0.12 80
expect "hairpin: an endpoint reaches itself through its Service" "${ANS%% *}" web1
expect "hairpin: masqueraded (it sees the node's bridge address)" "${ANS#* }" 10.244.1.1

# --- a ServiceCIDR: its addresses that no Service holds are dropped on the node ---
ip netns exec "$EXT" nft add table ip seen
ip netns exec "$EXT" nft add chain ip seen pre '{ type filter hook prerouting priority -300; }'
ip netns exec "$EXT" nft add rule ip seen pre ip daddr 10.96.99.99 counter
seen() { ip netns exec "$EXT" nft list chain ip seen pre | grep -o 'packets [0-9]*' | awk '{print $2}'; }
ask "$P-client" -t 300 10.96.99.99 80
expect_match "no ServiceCIDR: an unallocated Service address is routed on (ext sees it)" "$(seen)" "^[1-9]"
printf 'apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\nspec: {cidrs: [10.96.0.0/16, "fd00:96::/112"]}\n' > "$M/cidr.yaml"
dropped() { ip netns exec "$P-a" nft list chain ip "$(our_table a ip)" cluster-ips-check | grep -q 'ip daddr 10.96.0.0/16 drop'; }
until_true 2 dropped; expect "ServiceCIDR 10.96.0.0/16: a drop rule in cluster-ips-check (${WAITED} ms)" "$?" 0
before=$(seen)
ask "$P-client" -t 300 10.96.99.99 80
expect "ServiceCIDR: an unallocated address is dropped on the node (ext sees nothing more)" "$(seen)" "$before"
ask "$P-client" -t 300 10.96.0.11 80
expect "ServiceCIDR: an allocated ClusterIP without endpoints is still refused" "$ARC" 7

# --- someone flushes the ruleset (a firewall reload): the daemon notices and rebuilds ---
ip netns exec "$P-a" nft flush ruleset
back() { ask "$P-web1" -t 300 10.96.0.12 80; [[ ${ANS%% *} == web1 ]]; }
until_true 5 back; expect "nft flush ruleset: the rules are rebuilt (--sync-period 1s) and the Service answers (${WAITED} ms)" "$?" 0
expect_match "nft flush ruleset: the daemon says so" "$(cat "$TMP/proxy-a.log")" "changed by someone else"

# --- the ruleset is what nft itself would write: loads back, same bytecode ---
netns_add "$P-cmp"
ip netns exec "$P-a" nft list table ip podnet-proxy > "$TMP/ours.nft"
ip netns exec "$P-a" nft list table ip6 podnet-proxy >> "$TMP/ours.nft"
expect_true "nft -f loads 'nft list' of our tables" ip netns exec "$P-cmp" nft -f "$TMP/ours.nft"
bytecode() { ip netns exec "$1" nft --debug=netlink list ruleset 2>&1 | grep -E '^\s+\[|^ip6? ' | sed -E 's/^(ip6? [^ ]+ [^ ]+) .*/\1/'; }
expect "our rules' bytecode is nft's own for the same text" "$(bytecode "$P-a" | md5sum)" "$(bytecode "$P-cmp" | md5sum)"
expect_match "nft list shows the Service's element readably" "$(cat "$TMP/ours.nft")" "10\.96\.0\.10 \. tcp \. 80 : goto"

# --- /metrics and /healthz ---
metrics=$(ip netns exec "$P-a" curl -s http://127.0.0.1:10249/metrics)
expect_match "/metrics: sync duration histogram" "$metrics" "podnet_proxy_sync_proxy_rules_duration_seconds_count [1-9]"
expect_match "/healthz: 200 after the first sync" "$(ip netns exec "$P-a" curl -s -w ' %{http_code}' http://127.0.0.1:10256/healthz)" "lastUpdated.* 200$"

# --- --nodeport-addresses: NodePorts only on the node's addresses in those CIDRs ---
mkdir -p "$TMP/manifests-b"
cat > "$TMP/manifests-b/np.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: np, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.0.30
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30090}]
---
$(slice_yaml np np-1 8080 TCP "${POD4[web3]} node-b")
YAML
start_proxy b --nodeport-addresses 192.0.2.0/24 || exit 1
expect_match "--nodeport-addresses 192.0.2.0/24: the set holds node b's fabric address only" \
	"$(ip netns exec "$P-b" nft list set ip podnet-proxy nodeport-ips | tr -d '\n\t ')" "elements=\{192\.0\.2\.2\}"
ask "$EXT" "${NODE_IP[b]}" 30090
expect "--nodeport-addresses: the NodePort answers on 192.0.2.2" "${ANS%% *}" web3
ask "$P-web3" -t 500 10.244.2.1 30090
expect_match "--nodeport-addresses: not on node b's bridge address" "$ARC" "^(7|28)$"
stop_proxy b

# --- deploy/podnet-proxy.service: its ExecStart command line runs (on a directory of ours) ---
exec_start=$(sed -n 's/^ExecStart=//p' "$TOP/deploy/podnet-proxy.service")
read -r -a argv <<<"$exec_start"
argv[0]=$PROXY
for i in "${!argv[@]}"; do [[ ${argv[i]} == /etc/podnet/manifests ]] && argv[i]=$TMP/manifests-unit; done
mkdir -p "$TMP/manifests-unit"
ip netns exec "$P-b" "${argv[@]}" --node-name node-b >"$TMP/unit.log" 2>&1 & unit_pid=$!
at_exit "kill $unit_pid"
unit_ok() { [[ $(ip netns exec "$P-b" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz) == 200 ]]; }
until_true 5 unit_ok; expect "deploy/podnet-proxy.service: its ExecStart runs and becomes healthy" "$?" 0
kill "$unit_pid"; wait "$unit_pid" 2>/dev/null
ip netns exec "$P-b" "$PROXY" --cleanup

# --- SIGTERM leaves the rules, --cleanup removes them ---
stop_proxy a
answers "$P-client" 3 10.96.0.12 80
expect "after SIGTERM the rules stay: the Service answers" "$NAMES" web1
expect_true "--cleanup exits 0" ip netns exec "$P-a" "$PROXY" --cleanup
expect "--cleanup: no table of ours left" "$(ip netns exec "$P-a" nft list tables | grep -c podnet-proxy)" 0
finish
