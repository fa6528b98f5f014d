#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Packs a directory tree as a one-layer OCI image archive that
`ctr images import` takes, with no docker and no registry.

usage: oci_layout.py ROOTFS NAME OUT.tar [--entrypoint a,b] [--cmd a,b]
                     [--env K=V]... [--workdir DIR]

ROOTFS is packed as one gzip layer (owner root, mtime 0, sorted: the
same tree gives the same digest). NAME is the full reference, e.g.
localhost/edgesite/pause:3.9. OUT.tar holds the OCI image layout:
oci-layout, index.json (annotated with the name), blobs/sha256/ with the
config, the manifest and the layer."""
import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
        "armv6l": "arm", "i686": "386", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}


def layer_tar(rootfs):
    """The uncompressed layer: every file under rootfs, owned by root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in [""] + sorted(filenames) + dirnames:
                if name in dirnames:
                    continue
                path = os.path.join(dirpath, name) if name else dirpath
                arc = os.path.relpath(path, rootfs)
                if arc == ".":
                    continue
                info = t.gettarinfo(path, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(path, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rootfs")
    ap.add_argument("name")
    ap.add_argument("out")
    ap.add_argument("--entrypoint", default="")
    ap.add_argument("--cmd", default="")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir", default="/")
    a = ap.parse_args()

    arch = ARCH.get(platform.machine(), platform.machine())
    raw = layer_tar(a.rootfs)
    layer = gzip_bytes(raw)
    cfg = {"architecture": arch, "os": "linux",
           "config": {"Env": a.env or ["PATH=/usr/local/sbin:/usr/local/bin:"
                                       "/usr/sbin:/usr/bin:/sbin:/bin"],
                      "WorkingDir": a.workdir},
           "rootfs": {"type": "layers", "diff_ids": [sha(raw)]},
           "history": [{"created_by": "contrib/images/oci_layout.py"}]}
    if a.entrypoint:
        cfg["config"]["Entrypoint"] = a.entrypoint.split(",")
    if a.cmd:
        cfg["config"]["Cmd"] = a.cmd.split(",")
    config = json.dumps(cfg, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType":
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(layer), "size": len(layer)}],
    }, sort_keys=True).encode()
    tag = a.name.rsplit(":", 1)[1] if ":" in a.name.split("/")[-1] \
        else "latest"
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha(manifest), "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": a.name,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }, sort_keys=True).encode()

    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
             ("index.json", index)]
    for blob in (config, manifest, layer):
        files.append(("blobs/sha256/" + sha(blob)[7:], blob))
    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w") as t:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            t.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    os.replace(tmp, a.out)
    print("%s %s %s" % (a.out, a.name, sha(manifest)))


if __name__ == "__main__":
    main()
