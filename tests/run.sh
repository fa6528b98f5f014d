#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
# installs what the tests need with apt-get, builds with --enable-debug,
# runs the unit tests (make check) and the integration tests, runs the unit
# tests again under AddressSanitizer and UndefinedBehaviorSanitizer, and
# checks the release tarball (make distcheck).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

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
