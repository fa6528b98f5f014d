#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the real kube-apiserver and etcd (and, on request, kubelet and
# kubectl) that the integration tests run against, from the Go module in this
# folder, into a cache folder named for the versions go.mod pins:
#   ${EDGESITE_KUBE_CACHE:-/var/cache/edgesite-kube}/<k8s version>-<etcd version>/
# A binary already in that folder is not built again. The last line printed is
# the cache folder.
#
# usage: tests/kube/build.sh [--with-kubelet] [--with-kubectl]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
want=(kube-apiserver etcd)
for arg in "$@"; do
	case $arg in
	--with-kubelet) want+=(kubelet) ;;
	--with-kubectl) want+=(kubectl) ;;
	*) echo "usage: $0 [--with-kubelet] [--with-kubectl]" >&2; exit 2 ;;
	esac
done

export PATH=$PATH:/usr/local/go/bin
# Never fetch another toolchain; never rewrite go.mod or go.sum.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
cd "$here"

# The versions the module graph picks, e.g. v1.37.2 and v3.7.0.
k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
cache=${EDGESITE_KUBE_CACHE:-/var/cache/edgesite-kube}/$k8s_version-$etcd_version
mkdir -p "$cache"

# One build at a time per cache folder; a second caller waits, then finds
# the binaries there.
exec 9>"$cache/.lock"
flock 9

minor=${k8s_version#v1.}
minor=${minor%%.*}
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"

start=$(date +%s)
built=0
for bin in "${want[@]}"; do
	if [ -x "$cache/$bin" ]; then
		continue
	fi
	echo "building $bin $([ "$bin" = etcd ] && echo "$etcd_version" || echo "$k8s_version")" >&2
	# Build beside the target and rename, so an interrupted build never
	# leaves a binary that looks finished.
	nice -n 19 go build -trimpath -ldflags "$ldflags" \
		-o "$cache/.$bin.tmp" "./cmd/$bin"
	mv -f "$cache/.$bin.tmp" "$cache/$bin"
	built=$((built + 1))
done
if [ "$built" -gt 0 ]; then
	echo "built $built binaries in $(($(date +%s) - start))s" >&2
else
	echo "binaries already built (0s)" >&2
fi
echo "$cache"
