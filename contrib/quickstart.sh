#!/usr/bin/env bash
# Quick start: installs the build dependencies, builds edgesite and runs it
# standalone (no cluster) in the foreground with the sample configuration.
# Its state goes to ${EDGESITE_STATE:-/var/lib/edgesite}; stop it with ^C.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deps=(autoconf automake libtool pkg-config make gcc g++ libevent-dev
	libevhtp-dev libcjson-dev libyaml-dev libmosquitto-dev libleveldb-dev
	libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev)
missing=()
for p in "${deps[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
./autogen.sh >/dev/null 2>&1
mkdir -p build/release
(cd build/release && "$top/configure" -q && make -s -j"$(nproc)")
conf=build/release/edgeSite.yaml
sed "s|state-dir: /var/lib/edgesite|state-dir: ${EDGESITE_STATE:-/var/lib/edgesite}|" \
	conf/edgeSite.yaml >"$conf"
build/release/edgesite -n -c "$conf"
echo "edgesite: local endpoint on http://127.0.0.1:10550 (try: curl 127.0.0.1:10550/readyz?verbose)"
exec build/release/edgesite -c "$conf"
