#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gen-services.sh DIR SERVICES ENDPOINTS PER_FILE: writes SERVICES ClusterIP Services
# (10.96.0.0/16) with ENDPOINTS ready endpoints each (10.100.0.0/14, not reachable: only the
# rules are measured; one in ten on node-a, the node under test, as in a cluster of ten nodes) as YAML, PER_FILE Services and their EndpointSlices per file.
set -eu
dir=$1 n=$2 e=$3 per=$4
mkdir -p "$dir"
awk -v n="$n" -v e="$e" -v per="$per" -v dir="$dir" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = sprintf("%s/svc-%05d.yaml", dir, int(i / per))
		printf "apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: bench}\nspec:\n  clusterIP: 10.96.%d.%d\n  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]\n---\n", i, int(i / 250), i % 250 + 1 > f
		printf "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s%d-x, namespace: bench, labels: {kubernetes.io/service-name: s%d}}\naddressType: IPv4\nports: [{name: p, port: 8080, protocol: TCP}]\nendpoints:\n", i, i > f
		for (k = 0; k < e; k++) {
			x = i * e + k
			node = k % 10 == 0 ? "node-a" : "node-" k % 10   # one endpoint in ten on this node (node-a)
			printf "- addresses: [\"10.%d.%d.%d\"]\n  conditions: {ready: true}\n  nodeName: %s\n", 100 + int(x / 65536), int(x / 256) % 256, x % 256, node > f
		}
		printf "---\n" > f
		if (i % per == per - 1) close(f)
	}
}'
