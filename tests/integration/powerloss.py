# SPDX-License-Identifier: Apache-2.0
"""A power loss for edgesite's state directory: powerloss.c, built here
and preloaded, keeps the image each file under the store had at its last
fsync; crash() kills edgesite and puts every file back to that image,
deleting the files never synced."""
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


class PowerLoss:
    def __init__(self, tmp_path, state_dir):
        self.root = os.path.join(state_dir, "store")
        self.images = str(tmp_path / "powerloss-images")
        os.makedirs(self.images, exist_ok=True)
        self.lib = str(tmp_path / "powerloss.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-Wall", "-o",
                        self.lib, os.path.join(HERE, "powerloss.c"), "-ldl"],
                       check=True)

    def env(self, monkeypatch):
        """Preloads the shim into what the test starts next."""
        monkeypatch.setenv("LD_PRELOAD", self.lib)
        monkeypatch.setenv("EDGESITE_POWERLOSS_ROOT", self.root)
        monkeypatch.setenv("EDGESITE_POWERLOSS_IMAGES", self.images)

    def crash(self, es, monkeypatch):
        """kill -9, then what the disk holds after the power came back;
        the next start runs without the shim. Returns (restored,
        deleted) file counts."""
        es.kill()
        monkeypatch.delenv("LD_PRELOAD")
        restored = deleted = 0
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            img = os.path.join(self.images, name)
            if os.path.exists(img):
                shutil.copyfile(img, path)
                restored += 1
            else:
                os.unlink(path)
                deleted += 1
        return restored, deleted
