#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bridge + host-local driven by real CNI clients, the way they run in production:
#   · libcni, the Go library containerd and CRI-O call plugins through
#     (tests/clients/libcni, built offline against Debian's golang-github-appc-cni-dev):
#     ADD, CHECK, DEL for cniVersion 0.3.1, 0.4.0 and 1.0.0;
#   · podman with runc and its CNI network backend: two containers on the bridge talk
#     over TCP, then `podman rm -f` must leave nothing behind.
#
#   [node netns $P-node]  bridge $P-br 10.244.1.1/24; libcni-client and podman run here
#     ├ [pod netns $P-podNNN]       libcni's pod, one per cniVersion
#     └ podman's netns (2)          containers a and b: busybox httpd + nc
#
# The plugins under test come from BRIDGE_PLUGIN_DIR (default build/bin; host-local from
# IPAM_PLUGIN_DIR, default the same).  BRIDGE_PLUGIN_DIR=/usr/lib/cni runs the same checks
# against the reference plugins.  The clients see only a temp dir holding symlinks to
# bridge and host-local, so nothing else from a plugin dir is used.
#
# podman runs inside a private mount namespace ($TMP/mnt/ns) with its own /dev/shm
# (libpod's lock segment), /var/lib (libcni's result cache, the image blob cache) and
# /run/netns (the containers' netns), with storage, state and events under $TMP and its
# cgroups under /$P-podman: the machine's own podman state is never touched.
source "$(dirname "$0")/lib.sh"

PLUGDIR=${BRIDGE_PLUGIN_DIR:-$BIN}
IPAMDIR=${IPAM_PLUGIN_DIR:-$PLUGDIR}
NODE=$P-node
BR=$P-br
DATA=$TMP/data
CNIBIN=$TMP/cni-bin
LIBCNI=$TOP/$BUILD/tests/libcni-client
SUBNET_RE='^10\.244\.1\.([0-9]{1,3})/24$'
t0=$SECONDS

# --- prerequisites: a missing one is a failure, never a silent skip ------------------
[[ -x $PLUGDIR/bridge ]] || not_ok "bridge plugin at $PLUGDIR/bridge (run make, or set BRIDGE_PLUGIN_DIR)"
[[ -x $IPAMDIR/host-local ]] || not_ok "host-local plugin at $IPAMDIR/host-local (run make, or set IPAM_PLUGIN_DIR)"
[[ -x $JSON ]] || not_ok "pn-json at $JSON (run make)"
for tool in go podman runc conmon nsenter unshare nft ping; do
	command -v "$tool" >/dev/null || not_ok "$tool is installed (scripts/install-deps)"
done
[[ -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ]] ||
	not_ok "libcni source is installed (golang-github-appc-cni-dev, scripts/install-deps)"
# the image is this one binary: it must be static (busybox-static, not busybox)
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	not_ok "/bin/busybox is a static binary (busybox-static, scripts/install-deps)"
[[ $FAILS -eq 0 ]] || exit 1
PLUGDIR=$(cd "$PLUGDIR" && pwd) IPAMDIR=$(cd "$IPAMDIR" && pwd)
echo "# bridge from $PLUGDIR, host-local from $IPAMDIR"

mkdir -p "$CNIBIN" "$DATA"
ln -s "$PLUGDIR/bridge" "$CNIBIN/bridge"
ln -s "$IPAMDIR/host-local" "$CNIBIN/host-local"

netns_add "$NODE"
ip -n "$NODE" link set lo up

# conflist NAME VERSION: the network under test
conflist() {
	printf '{"cniVersion":"%s","name":"%s","plugins":[{"type":"bridge","bridge":"%s","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","dataDir":"%s","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}]}\n' \
		"$2" "$1" "$BR" "$DATA"
}
# expect_rc NAME: $RC is 0, else show the client's stderr
expect_rc() {
	if [[ $RC -eq 0 ]]; then ok "$1"; else not_ok "$1"; echo "#   exit status $RC"; sed 's/^/#   stderr: /' "$TMP/stderr" | head -n 20; fi
}
pod_ping() { ip netns exec "$POD" timeout 5 ping -c 1 -W 2 -q "$1" >/dev/null 2>&1; }
node_links() { ip -n "$NODE" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' '; }
reservations() { (cd "$DATA/$1" 2>/dev/null && ls | grep -v -e '^lock$' -e '^last_reserved_ip' | sort | tr '\n' ' '); }
# nft_mentions ADDR: how many lines of the node's ruleset name ADDR (rules, set elements)
nft_mentions() { ip netns exec "$NODE" nft list ruleset 2>/dev/null | grep -cwF "$1"; }

# --- libcni --------------------------------------------------------------------------
if timeout 300 "$TOP/tests/clients/libcni/build" "$LIBCNI" >"$TMP/go-build.log" 2>&1; then
	ok "libcni client builds offline (GOPATH mode, Debian's libcni)"
else
	not_ok "libcni client builds offline (GOPATH mode, Debian's libcni)"; sed 's/^/#   /' "$TMP/go-build.log" | head -n 20
fi

# lcni VERB CONFLIST ID: runs libcni-client in the node netns; stdout in $OUT, status in $RC
lcni() {
	OUT=$(ip netns exec "$NODE" timeout 20 "$LIBCNI" -conflist "$2" -netns "/run/netns/$POD" -id "$3" \
		-ifname eth0 -path "$CNIBIN" -cache "$TMP/libcni-cache" "$1" 2>"$TMP/stderr")
	RC=$?
}

conflist "$P-probe" 1.0.0 > "$TMP/probe.conflist"
POD=none lcni version "$TMP/probe.conflist" ""
expect_rc "libcni: VERSION of bridge"
expect_match "libcni: bridge supports 0.3.1, 0.4.0 and 1.0.0" "$($JSON bridge <<<"$OUT" 2>/dev/null)" \
	'"0\.3\.1".*"0\.4\.0".*"1\.0\.0"'

for V in 0.3.1 0.4.0 1.0.0; do
	T0=$SECONDS
	NET=$P-lc${V//./}
	ID=$P-ctr-${V//./}
	CONF=$TMP/$NET.conflist
	POD=$P-pod${V//./}
	netns_add "$POD"
	conflist "$NET" "$V" > "$CONF"

	lcni add "$CONF" "$ID"
	expect_rc "libcni $V: ADD"
	expect "libcni $V: result cniVersion" "$($JSON cniVersion <<<"$OUT" 2>/dev/null)" "$V"
	eth0=""
	for i in 0 1 2 3 4 5; do
		[[ $($JSON "interfaces.$i.name" <<<"$OUT" 2>/dev/null) == eth0 ]] && { eth0=$i; break; }
	done
	expect "libcni $V: result has eth0 in the pod netns" \
		"$([[ -n $eth0 ]] && $JSON "interfaces.$eth0.sandbox" <<<"$OUT")" "/run/netns/$POD"
	addr=$($JSON ips.0.address <<<"$OUT" 2>/dev/null)
	expect_match "libcni $V: result address in 10.244.1.0/24" "$addr" "$SUBNET_RE"
	expect "libcni $V: result address is on eth0" "$($JSON ips.0.interface <<<"$OUT" 2>/dev/null)" "${eth0:-(no eth0)}"
	expect "libcni $V: result gateway" "$($JSON ips.0.gateway <<<"$OUT" 2>/dev/null)" "10.244.1.1"
	ip=${addr%/*}
	# without a result, the leak checks below look for the address the pod really has
	[[ -n $ip ]] || ip=$(ip -n "$POD" -4 -o addr show dev eth0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }')
	expect "libcni $V: the address is really on eth0 in the pod" \
		"$(ip -n "$POD" -4 -o addr show dev eth0 2>&1 | awk '{ print $4 }')" "${addr:-(no address in the result)}"
	expect "libcni $V: default route via the gateway in the pod" \
		"$(ip -n "$POD" -4 route show default 2>&1)" "default via 10.244.1.1 dev eth0 "
	expect "libcni $V: gateway on the bridge in the node" \
		"$(ip -n "$NODE" -4 -o addr show dev "$BR" 2>&1 | awk '{ print $4 }')" "10.244.1.1/24"
	expect "libcni $V: the host end of the veth is a port of the bridge" \
		"$(ip -n "$NODE" -o link show master "$BR" 2>/dev/null | wc -l)" 1
	expect "libcni $V: reservation file names the container" \
		"$(head -n 1 "$DATA/$NET/$ip" 2>&1 | tr -d '\r')" "$ID"
	expect_true "libcni $V: the pod reaches its gateway" pod_ping 10.244.1.1
	expect_true "libcni $V: ipMasq state in the node's ruleset names the pod" test "$(nft_mentions "$ip")" -gt 0
	expect_true "libcni $V: libcni cached the result" test -f "$TMP/libcni-cache/results/$NET-$ID-eth0"

	if [[ $V != 0.3.1 ]]; then  # CHECK exists from 0.4.0 on
		lcni check "$CONF" "$ID"
		expect_rc "libcni $V: CHECK"
	fi

	lcni del "$CONF" "$ID"
	expect_rc "libcni $V: DEL"
	expect "libcni $V: eth0 gone from the pod" "$(ip -n "$POD" -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')" "lo "
	expect "libcni $V: no reservation left" "$(reservations "$NET")" ""
	expect "libcni $V: node has only lo and the bridge" "$(node_links)" "$(printf '%s\n' lo "$BR" | sort | tr '\n' ' ')"
	expect "libcni $V: no rule or element names the address" "$(nft_mentions "${ip:-none}")" 0
	lcni del "$CONF" "$ID"
	expect_rc "libcni $V: DEL again"
	echo "# libcni $V: $((SECONDS - T0)) s"
done

# --- deploy/10-podnet.conflist, the example network, through libcni (bridge and dataDir of this run) ---
POD=$P-poddeploy
netns_add "$POD"
sed -e "s|\"cni0\"|\"$BR\"|" -e "s|/var/lib/cni/networks|$DATA|" -e "s|\"podnet\"|\"$P-deploy\"|" \
	"$TOP/deploy/10-podnet.conflist" > "$TMP/deploy.conflist"
lcni add "$TMP/deploy.conflist" "$P-deploy-ctr"
expect_rc "deploy/10-podnet.conflist: ADD through libcni"
expect_match "deploy/10-podnet.conflist: the pod has an address of the example subnet" \
	"$(ip -n "$POD" -4 -o addr show dev eth0 2>&1 | awk '{ print $4 }')" '^10\.244\.1\.[0-9]+/24$'
lcni del "$TMP/deploy.conflist" "$P-deploy-ctr"
expect_rc "deploy/10-podnet.conflist: DEL through libcni"
expect "deploy/10-podnet.conflist: no reservation left" "$(reservations "$P-deploy")" ""

# --- podman + runc ---------------------------------------------------------------------
T0=$SECONDS
PM=$TMP/podman
PNET=$P-pm
MNT=$TMP/mnt
CGROUP=/$P-podman
IMG=localhost/$P-box:latest
mkdir -p "$PM/net.d" "$PM/img/bin" "$MNT"
conflist "$PNET" 1.0.0 > "$PM/net.d/$PNET.conflist"
cat > "$PM/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
runtime = "runc"
tmp_dir = "$PM/tmp"
volume_path = "$PM/volumes"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$CNIBIN"]
network_config_dir = "$PM/net.d"
EOF
cat > "$PM/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$PM/root"
runroot = "$PM/runroot"
EOF

# the private mount namespace, kept by a bind mount of its nsfs file
if mount --bind "$MNT" "$MNT" && at_exit "umount -l '$MNT'" && mount --make-private "$MNT" && touch "$MNT/ns" &&
	unshare --mount="$MNT/ns" --propagation private sh -ec '
		mount -t tmpfs -o mode=1777,size=64m podnet-shm /dev/shm
		mount -t tmpfs -o mode=755,size=64m podnet-varlib /var/lib
		mount -t tmpfs -o mode=755,size=1m podnet-netns /run/netns'; then
	at_exit "umount -l '$MNT/ns'"
	ok "podman: private mount namespace"
else
	not_ok "podman: private mount namespace"
fi

# pm ARGS...: podman in the private mount ns and the node netns (nsenter opens both
# namespace files first, so /run/netns/$NODE is looked up in ours)
pm() {
	timeout 30 nsenter --mount="$MNT/ns" --net="/run/netns/$NODE" \
		env HOME="$PM" CONTAINERS_CONF="$PM/containers.conf" CONTAINERS_STORAGE_CONF="$PM/storage.conf" \
		podman "$@"
}
# cleanup, latest first: containers and image, then whatever process is left in our
# cgroups (by pid: only podman's conmon and containers live there), then the cgroups
pm_cgroups() { ls -d "/sys/fs/cgroup$CGROUP" /sys/fs/cgroup/*"$CGROUP" 2>/dev/null; }
pm_cgroups_cleanup() {
	local i d
	pm_cgroups | while read -r d; do find "$d" -name cgroup.procs -exec cat {} +; done | sort -u | xargs -r kill -9
	for i in $(seq 1 50); do
		for d in $(pm_cgroups); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
		[[ -z $(pm_cgroups) ]] && return 0
		sleep 0.1
	done
	return 1
}
at_exit pm_cgroups_cleanup
at_exit "pm rm -af -t 0; pm rmi -af"

# an image made offline: static busybox and a few applet links
cp /bin/busybox "$PM/img/bin/"
for applet in sh nc httpd mkdir echo sleep cat ip; do ln -s busybox "$PM/img/bin/$applet"; done
tar -C "$PM/img" -cf "$PM/img.tar" .
pm import -q "$PM/img.tar" "$IMG" >/dev/null 2>"$TMP/stderr"; RC=$?
expect_rc "podman: import the busybox image"

RUN=(--pull never --runtime runc --cgroup-parent "$CGROUP" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
	--network "$PNET")
# serve NAME: container $P-NAME serving "hello from NAME" over HTTP on :8080
serve() {
	pm run -d --name "$P-$1" "${RUN[@]}" "$IMG" \
		sh -c "mkdir /w && echo 'hello from $1' > /w/index.html && exec httpd -f -p 8080 -h /w" >/dev/null 2>"$TMP/stderr"
	RC=$?
	expect_rc "podman: run container $1"
}
# fetch FROM IP: container $P-FROM GETs http://IP:8080/, prints the body's last line
fetch() {
	pm exec "$P-$1" sh -c "i=0; while [ \$i -lt 20 ]; do
		printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 8080 && exit 0; i=\$((i + 1)); sleep 0.25; done; exit 1" \
		2>&1 | tail -n 1 | tr -d '\r'
}
cinfo() { pm inspect -f "$2" "$P-$1" 2>/dev/null; }

serve a
serve b
ipa=$(cinfo a "{{(index .NetworkSettings.Networks \"$PNET\").IPAddress}}")
ipb=$(cinfo b "{{(index .NetworkSettings.Networks \"$PNET\").IPAddress}}")
expect_match "podman: a's address in 10.244.1.0/24" "$ipa/24" "$SUBNET_RE"
expect_match "podman: b's address in 10.244.1.0/24" "$ipb/24" "$SUBNET_RE"
expect_true "podman: distinct addresses" test "$ipa" != "$ipb"
expect "podman: a's address is on its eth0" "$(pm exec "$P-a" ip -4 -o addr show dev eth0 2>&1 | awk '{ print $4 }')" "$ipa/24"
expect "podman: two veths on the bridge" "$(ip -n "$NODE" -o link show master "$BR" 2>/dev/null | wc -l)" 2
expect "podman: reservations for both" "$(reservations "$PNET")" "$(printf '%s\n' "$ipa" "$ipb" | sort | tr '\n' ' ')"
expect "podman: a's reservation names its container" "$(head -n 1 "$DATA/$PNET/$ipa" 2>&1 | tr -d '\r')" "$(cinfo a '{{.Id}}')"
expect "podman: b gets a's page over the bridge" "$(fetch b "$ipa")" "hello from a"
expect "podman: a gets b's page over the bridge" "$(fetch a "$ipb")" "hello from b"

addrs=$(printf '%s\n' "$ipa" "$ipb" $(reservations "$PNET") | sort -u)
pm rm -f -t 0 "$P-a" "$P-b" >/dev/null 2>"$TMP/stderr"; RC=$?
expect_rc "podman: rm -f both"
expect "podman: no container left" "$(pm ps -aq 2>&1)" ""
expect "podman: node has only lo and the bridge" "$(node_links)" "$(printf '%s\n' lo "$BR" | sort | tr '\n' ' ')"
expect "podman: no reservation left" "$(reservations "$PNET")" ""
for ip in ${addrs:-none}; do
	expect "podman: no rule or element names $ip" "$(nft_mentions "$ip")" 0
done
expect "podman: its CNI result cache is empty" \
	"$(nsenter --mount="$MNT/ns" sh -c 'ls -A /var/lib/cni/results 2>/dev/null')" ""
echo "# podman: $((SECONDS - T0)) s"

echo "# total: $((SECONDS - t0)) s"
finish
