// SPDX-License-Identifier: Apache-2.0

// Command etcd is upstream's etcd server main, at the etcd version that the
// pinned Kubernetes module graph selects.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
