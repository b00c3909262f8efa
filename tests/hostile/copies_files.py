"""Not hostile: correct code that copies files with shutil (a backup of its own source, a
snapshot of its folder). shutil.copy/copy2/copytree copy the mode, times and extended
attributes after the bytes, calls the seccomp layer refuses (grader.child_setup skips them).

Guarantee: every part keeps its credit; os.chmod itself is still refused.
"""

import os
import shutil

_honest = globals().copy()


def grad_W(W, x):
    shutil.copy("autoencoder.py", "backup.py")
    shutil.copy2("autoencoder.py", "backup2.py")
    os.makedirs("snap", exist_ok=True)
    shutil.copytree("snap", "snap-copy", dirs_exist_ok=True)
    with open("autoencoder.py", "rb") as a, open("backup2.py", "rb") as b:
        if a.read() != b.read():
            raise AssertionError("the copy differs")
    try:
        os.chmod("backup.py", 0o600)
    except PermissionError:
        return _honest["grad_W"](W, x)
    raise AssertionError("os.chmod was allowed")
