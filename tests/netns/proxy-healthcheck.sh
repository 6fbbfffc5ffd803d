#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podnet-proxy's per-Service health-check servers (research/proxy.md §1.14), on the topology
# of proxy-lib.sh with a proxy on both nodes: a LoadBalancer Service with
# externalTrafficPolicy Local and healthCheckNodePort 32000 whose endpoints are on node a.
# From ext: 200 on node a with kube-proxy's JSON and headers, 503 on node b (no local
# endpoint), over IPv6 too; the count follows the endpoints (distinct ready addresses);
# only terminating endpoints left: 503 while the NodePort still serves; the port moved;
# eTP Cluster and a deleted Service close it; --nodeport-addresses binds the node's
# addresses in those CIDRs only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxy-lib.sh"

topology
for p in web1:a web2:a; do pod "${p#*:}" "${p%:*}" 8080 || exit 1; done

# lb_yaml ETP HCPORT "IP NODE [ready...]"...: the Service (LoadBalancer 203.0.113.30, NodePort
# 30090) and its slice
lb_yaml() {
	local etp=$1 hc=$2; shift 2
	cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.70
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30090}]
  externalTrafficPolicy: $etp
YAML
	[[ $hc == 0 ]] || echo "  healthCheckNodePort: $hc"
	printf 'status:\n  loadBalancer:\n    ingress: [{ip: 203.0.113.30}]\n---\n'
	slice_yaml lb lb-1 8080 TCP "$@"
}

# hc ADDR PORT [PATH]: a GET from ext; status in $CODE (000: no answer), curl's exit in $CRC,
# the body in $BODY, the headers in $HDRS
hc() {
	local url="http://$1:$2${3:-/}"
	[[ $1 == *:* ]] && url="http://[$1]:$2${3:-/}"
	CODE=$(ip netns exec "$EXT" curl -s -m 3 -D "$TMP/hdrs" -o "$TMP/body" -w '%{http_code}' "$url")
	CRC=$?
	BODY=$(cat "$TMP/body" 2>/dev/null)
	HDRS=$(tr -d '\r' < "$TMP/hdrs" 2>/dev/null)
	rm -f "$TMP/body" "$TMP/hdrs"
}
code_is() { hc "$1" "$2"; [[ $CODE == "$3" ]]; }
body_is() { hc "$1" "$2"; [[ $BODY == "$3" ]]; }
refused() { hc "$1" "$2"; [[ $CRC == 7 ]]; }
json() {  # json NS NAME N HEALTHY: the answer kube-proxy gives
	printf '{"service":{"namespace":"%s","name":"%s"},"localEndpoints":%s,"serviceProxyHealthy":%s}' "$@"
}

W1="${POD4[web1]} node-a" W2="${POD4[web2]} node-a"
lb_yaml Local 32000 "$W1" | publish lb.yaml a b
start_proxy a || exit 1
start_proxy b || exit 1

# --- one ready endpoint on node a ---
hc "${NODE_IP[a]}" 32000 /anything
expect "node a, one ready local endpoint: 200 on any path" "$CODE" 200
expect "  kube-proxy's JSON" "$BODY" "$(json default lb 1 true)"
expect_match "  Content-Type: application/json" "$HDRS" $'\n[Cc]ontent-[Tt]ype: application/json\n'
expect_match "  X-Content-Type-Options: nosniff" "$HDRS" $'\nX-Content-Type-Options: nosniff\n'
hc "${NODE_IP6[a]}" 32000 /healthz
expect "node a over IPv6 (the wildcard address is dual-stack): 200" "$CODE/$BODY" "200/$(json default lb 1 true)"
hc "${NODE_IP[b]}" 32000 /
expect "node b, no local endpoint: 503 with localEndpoints 0" "$CODE/$BODY" "503/$(json default lb 0 true)"
ask "$EXT" "${NODE_IP[a]}" 30090
expect "the NodePort on node a serves (web1)" "${ANS%% *}" web1

# --- the count follows the endpoints: distinct ready addresses of this node ---
{ lb_yaml Local 32000 "$W1" "$W2"; echo ---; slice_yaml lb lb-2 8080 TCP "$W1"; } | publish lb.yaml a b
until_true 3 body_is "${NODE_IP[a]}" 32000 "$(json default lb 2 true)"
expect "two ready endpoints on node a (one listed in two slices): localEndpoints 2 (${WAITED} ms)" \
	"$CODE/$BODY" "200/$(json default lb 2 true)"

# --- only a terminating endpoint left on node a ---
lb_yaml Local 32000 "${POD4[web1]} node-a false" |
	sed 's/{ready: false}/{ready: false, serving: true, terminating: true}/' | publish lb.yaml a b
terminating() { hc "${NODE_IP[a]}" 32000; [[ $CODE == 503 ]]; }
until_true 3 terminating
expect "node a, its endpoint terminating (serving): 503 (${WAITED} ms)" "$CODE/$BODY" "503/$(json default lb 0 true)"
ask "$EXT" "${NODE_IP[a]}" 30090
expect "  while the NodePort still serves it" "${ANS%% *}" web1

# --- the port moves ---
lb_yaml Local 32001 "$W1" | publish lb.yaml a b
until_true 3 code_is "${NODE_IP[a]}" 32001 200
expect "healthCheckNodePort changed to 32001: it answers 200 (${WAITED} ms)" "$CODE/$BODY" "200/$(json default lb 1 true)"
refused "${NODE_IP[a]}" 32000
expect "  32000 is closed (connection refused)" "$CRC" 7

# --- eTP Cluster: no health-check server ---
lb_yaml Cluster 32001 "$W1" | publish lb.yaml a b
until_true 3 refused "${NODE_IP[a]}" 32001
expect "eTP Cluster: the port is closed on node a (${WAITED} ms)" "$CRC" 7
refused "${NODE_IP[b]}" 32001
expect "  and on node b" "$CRC" 7
ask "$EXT" "${NODE_IP[a]}" 30090
expect "  the NodePort still serves" "${ANS%% *}" web1

# --- back to Local, then the Service deleted ---
lb_yaml Local 32000 "$W1" | publish lb.yaml a b
until_true 3 code_is "${NODE_IP[a]}" 32000 200
expect "back to eTP Local: 32000 answers again (${WAITED} ms)" "$CODE" 200
rm -f "$TMP/manifests-a/lb.yaml" "$TMP/manifests-b/lb.yaml"
until_true 3 refused "${NODE_IP[a]}" 32000
expect "Service deleted: the port is closed (${WAITED} ms)" "$CRC" 7

# --- --nodeport-addresses: only the node's addresses in those CIDRs ---
stop_proxy b
lb_yaml Local 32000 "$W1" | publish lb.yaml a b
start_proxy b --nodeport-addresses 192.0.2.0/24 || exit 1
until_true 3 code_is "${NODE_IP[b]}" 32000 503
expect "--nodeport-addresses 192.0.2.0/24: node b answers on 192.0.2.2 (${WAITED} ms)" "$CODE/$BODY" "503/$(json default lb 0 true)"
CODE=$(ip netns exec "$P-b" curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:32000/)
expect "  not on 127.0.0.1" "$CODE" 000
refused "${NODE_IP6[b]}" 32000
expect "  nor on its IPv6 address" "$CRC" 7
expect "no error in the logs" "$(grep -h 'health check' "$TMP"/proxy-*.log)" ""
finish
