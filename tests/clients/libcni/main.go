// SPDX-License-Identifier: Apache-2.0
//
// libcni-client: drives CNI plugins through libcni, the Go library that containerd
// and CRI-O call plugins through, so the netns tests exercise our plugins the way
// those runtimes do (result caching, prevResult on CHECK and DEL, version checks).
//
//	libcni-client -conflist FILE -netns PATH -id ID [-ifname eth0] -path DIR[:DIR]
//	              [-cache DIR] [-args K=V;K=V] [-timeout 20s] add|check|del|version
//
// add prints the result JSON on stdout; version prints the plugin's version info
// for each plugin in the list.  Errors go to stderr, with exit status 1.
//
// Built offline in GOPATH mode from Debian's golang-github-appc-cni-dev
// (tests/clients/libcni/build).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "libcni-client: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	conflist := flag.String("conflist", "", "network config list (.conflist) file")
	netns := flag.String("netns", "", "path of the pod network namespace")
	id := flag.String("id", "", "container ID")
	ifname := flag.String("ifname", "eth0", "interface name inside the pod")
	path := flag.String("path", "", "plugin directories, colon-separated")
	cache := flag.String("cache", "", "libcni cache directory (default: libcni's /var/lib/cni)")
	cniArgs := flag.String("args", "", "CNI_ARGS, K=V;K=V")
	timeout := flag.Duration("timeout", 20*time.Second, "deadline for the whole operation")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] add|check|del|version\n", filepath.Base(os.Args[0]))
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	verb := flag.Arg(0)
	if *conflist == "" || *path == "" {
		die("-conflist and -path are required")
	}
	if verb != "version" && (*netns == "" || *id == "") {
		die("-netns and -id are required for %s", verb)
	}

	list, err := libcni.ConfListFromFile(*conflist)
	if err != nil {
		die("%s: %v", *conflist, err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(*path), *cache, nil)
	rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: *ifname}
	if *cniArgs != "" {
		for _, kv := range strings.Split(*cniArgs, ";") {
			k, v, found := strings.Cut(kv, "=")
			if !found {
				die("bad -args element %q", kv)
			}
			rt.Args = append(rt.Args, [2]string{k, v})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	switch verb {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			die("add: %v", err)
		}
		if err := res.Print(); err != nil {
			die("add: printing the result: %v", err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			die("check: %v", err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			die("del: %v", err)
		}
	case "version":
		infos := map[string]interface{}{}
		for _, p := range list.Plugins {
			info, err := cni.GetVersionInfo(ctx, p.Network.Type)
			if err != nil {
				die("version of %s: %v", p.Network.Type, err)
			}
			infos[p.Network.Type] = info.SupportedVersions()
		}
		out, _ := json.Marshal(infos)
		fmt.Println(string(out))
	default:
		flag.Usage()
		os.Exit(2)
	}
}
