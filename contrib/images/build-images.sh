#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the two local images the quick start and the CRI tests use, from
# scratch, with no docker and no registry:
#   localhost/edgesite/pause:3.9      the static pause program (contrib/pause)
#   localhost/edgesite/busybox:latest Debian's busybox-static and its applets
# Each is written as an OCI image archive (oci_layout.py) into OUTDIR; with
# -a ADDRESS they are also imported into that containerd's k8s.io
# namespace with ctr (and unpacked for snapshotter -s, default overlayfs). Needs gcc (static libc: libc6-dev), python3 and
# busybox-static (/bin/busybox).
#
# usage: build-images.sh [-a containerd-socket [-s snapshotter]] [OUTDIR]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
address=
snapshotter=overlayfs
while getopts a:s: opt; do
	case $opt in
	a) address=$OPTARG ;;
	s) snapshotter=$OPTARG ;;
	*) echo "usage: $0 [-a containerd-socket [-s snapshotter]] [OUTDIR]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
out=${1:-$top/contrib/images/out}
busybox=${BUSYBOX:-/bin/busybox}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pause: one static binary, nothing else.
mkdir -p "$work/pause"
${CC:-gcc} -static -Os -s -o "$work/pause/pause" "$top/contrib/pause/pause.c"
python3 "$here/oci_layout.py" "$work/pause" localhost/edgesite/pause:3.9 \
    "$out/pause.tar" --entrypoint /pause

# busybox: the static binary, a link per applet, a minimal /etc.
[ -x "$busybox" ] || {
	echo "$0: no $busybox (apt-get install busybox-static)" >&2
	exit 1
}
bb=$work/busybox
mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/var/www" "$bb/root"
chmod 1777 "$bb/tmp"
cp "$busybox" "$bb/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$bb/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
    >"$bb/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$bb/etc/group"
printf 'hello from edgesite busybox\n' >"$bb/var/www/index.html"
python3 "$here/oci_layout.py" "$bb" localhost/edgesite/busybox:latest \
    "$out/busybox.tar" --cmd /bin/sh \
    --env PATH=/bin:/sbin:/usr/bin:/usr/sbin

if [ -n "$address" ]; then
	for img in pause busybox; do
		ctr -a "$address" -n k8s.io images import \
		    --snapshotter "$snapshotter" "$out/$img.tar" >/dev/null
	done
	ctr -a "$address" -n k8s.io images ls -q | grep '^localhost/edgesite/'
fi
