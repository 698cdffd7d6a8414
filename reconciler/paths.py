"""Paths inside the project: the one check that a path, symlinks resolved, stays inside it.

Datasets, manifests, the settings file, the dataset cache and the local emulator's state all
live under the project directory; a symlink that leads elsewhere must not make ftctl read,
upload or write outside it. Stdlib only.
"""

from __future__ import annotations

import os


def inside(root: str, path: str) -> bool:
    """`path`, symlinks resolved, lies inside `root` (also resolved)."""
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([real_root, real]) == real_root
