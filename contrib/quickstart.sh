#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start: installs the build dependencies and a container runtime
# (containerd, runc, the CNI plugins, busybox-static) with apt-get, builds
# edgesite, and runs it standalone (no cluster) in the foreground with the
# sample configuration and a demo static pod: busybox httpd on hostPort
# 8080 (try: curl 127.0.0.1:8080). No registry is needed: the sandbox
# (pause) and busybox images are built locally (contrib/images) and
# imported into a containerd of its own, with its socket, config and data
# under the state directory; a system containerd is left alone.
# Its state goes to ${EDGESITE_STATE:-/var/lib/edgesite}; stop it with ^C
# (the demo pod is then removed and that containerd stopped).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deps=(autoconf automake libtool pkg-config make gcc g++ libevent-dev
	libevhtp-dev libcjson-dev libyaml-dev libmosquitto-dev libleveldb-dev
	libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev
	containerd runc containernetworking-plugins iptables busybox-static
	libc6-dev python3 curl)
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

state=${EDGESITE_STATE:-/var/lib/edgesite}
ctd=$state/containerd
mkdir -p "$ctd/cni" "$state/manifests"

# The runtime: containerd with the local pause image as sandbox image and a
# bridge network with port mappings.
cat >"$ctd/config.toml" <<EOF
version = 2
root = "$ctd/root"
state = "$ctd/state"
[grpc]
  address = "$ctd/containerd.sock"
[ttrpc]
  address = "$ctd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/edgesite/pause:3.9"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "$ctd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$ctd/cni"
EOF
cat >"$ctd/cni/10-edgesite.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "edgesite", "plugins": [
  {"type": "bridge", "bridge": "edgesite0", "isGateway": true,
   "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$ctd/ipam",
            "ranges": [[{"subnet": "10.88.0.0/16"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
EOF
# Its own session: ^C stops edgesite first, then the demo is cleaned up.
setsid containerd --config "$ctd/config.toml" >"$ctd/containerd.log" 2>&1 &
ctd_pid=$!
cleanup() {
	local cri=build/release/tests/unit/cri_call ep=unix://$ctd/containerd.sock
	for s in $("$cri" -e "$ep" list-sandboxes 2>/dev/null |
	    awk '/^sandbox /{print $2}'); do
		"$cri" -e "$ep" stop-sandbox "$s" -- remove-sandbox "$s" \
		    >/dev/null 2>&1 || true
	done
	kill "$ctd_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
	ctr -a "$ctd/containerd.sock" version >/dev/null 2>&1 && break
	sleep 0.1
done
contrib/images/build-images.sh -a "$ctd/containerd.sock" build/images

# The demo: a static pod serving /var/www of the busybox image.
cat >"$state/manifests/web.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  containers:
  - name: httpd
    image: localhost/edgesite/busybox:latest
    imagePullPolicy: Never
    command: ["httpd", "-f", "-p", "80", "-h", "/var/www"]
    ports:
    - containerPort: 80
      hostPort: 8080
EOF

conf=build/release/edgeSite.yaml
sed -e "s|state-dir: \"/var/lib/edgesite\"|state-dir: \"$state\"|" \
    -e "s|static-pod-dir: \"/etc/edgesite/manifests\"|static-pod-dir: \"$state/manifests\"|" \
    -e "s|remote-runtime-endpoint: \"unix:///run/containerd/containerd.sock\"|remote-runtime-endpoint: \"unix://$ctd/containerd.sock\"|" \
    -e "s|podsandbox-image: \"registry.k8s.io/pause:3.9\"|podsandbox-image: \"localhost/edgesite/pause:3.9\"|" \
	conf/edgeSite.yaml >"$conf"
build/release/edgesite -n -c "$conf"
echo "edgesite: local endpoint on http://127.0.0.1:10550 (try: curl 127.0.0.1:10550/readyz?verbose)"
echo "edgesite: demo pod web on http://127.0.0.1:8080 (try: curl 127.0.0.1:8080)"
build/release/edgesite -c "$conf"
