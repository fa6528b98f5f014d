#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
# installs what the tests need with apt-get, builds with --enable-debug,
# runs the unit tests (make check) and the integration tests, runs the unit
# tests again under AddressSanitizer and UndefinedBehaviorSanitizer, and
# checks the release tarball (make distcheck).
#
# It installs every prerequisite, so a missing one is a failure here, not a
# skip: CI=1 is exported unless set (the integration tests read it, see
# tests/integration/harness.py); .ci/run and a developer's
# `sudo tests/run.sh` both get that. Run pytest directly to skip instead.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)
export CI=${CI:-1}

deps=(autoconf automake libtool pkg-config make gcc g++ openssl
	libevent-dev libevhtp-dev libcjson-dev libyaml-dev libmosquitto-dev
	libleveldb-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
	libssl-dev python3 python3-pytest python3-plyvel mandoc prometheus curl mosquitto mosquitto-clients
	# CRI tests: a private containerd, runc, CNI, the images' parts
	containerd runc containernetworking-plugins iptables iproute2
	util-linux busybox-static libc6-dev
	# test_49 kills edgesite at a chosen instruction, under gdb
	gdb)

step() { printf '\n==== %s (%ds)\n' "$*" "$SECONDS"; }

install_deps() {
	local missing=()
	for p in "${deps[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	step "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Node.js and npm from Debian unless a node is in PATH already, then the
# client library test_61 runs (cached per machine, as the test expects).
install_node() {
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends nodejs npm
	fi
	local v d
	v=$(sed -n 's/^CLIENT_NODE = "\(.*\)"$/\1/p' \
	    tests/integration/test_61_local_api_cluster.py)
	d=${EDGESITE_NPM_CACHE:-/var/cache/edgesite-npm}/client-node-$v
	[ -d "$d/node_modules/@kubernetes/client-node" ] ||
		npm install --prefix "$d" --no-audit --no-fund --loglevel=error \
		    "@kubernetes/client-node@$v"
}

build() {	# build DIR CONFIGURE-ARGS...
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
}

install_deps
step autogen
./autogen.sh >/dev/null 2>&1 || ./autogen.sh

step "debug build and unit tests"
build build/debug --enable-debug
make -C build/debug -s -j"$jobs" check || {
	cat build/debug/tests/unit/*.log; exit 1; }

step "kube-apiserver and etcd for the cluster tests (cached per machine)"
bash tests/kube/build.sh

step "local pause and busybox images for the CRI tests"
export EDGESITE_IMAGES="$top/build/images"
contrib/images/build-images.sh "$EDGESITE_IMAGES"

step "Node.js, npm and @kubernetes/client-node for the informer test"
install_node

step "integration tests"
EDGESITE_TEST_KUBE=1 EDGESITE_BIN="$top/build/debug/edgesite" \
	/usr/bin/python3 -m pytest -v -p no:cacheprovider tests/integration

step "unit tests under ASan and UBSan"
build build/asan --enable-debug --enable-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -C build/asan -s -j"$jobs" check || {
	cat build/asan/tests/unit/*.log; exit 1; }

step "make distcheck"
make -C build/debug -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-debug \
	>build/distcheck.log 2>&1 || { tail -50 build/distcheck.log; exit 1; }

step "all tests passed"
