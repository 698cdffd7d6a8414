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


def stays_inside(root: str, rel: str) -> bool:
    """`inside(root, root/rel)` for a normalized relative `rel` (no leading ..), cheaply.

    Only rel's own components are looked at (one lstat each): without a symlink among them the
    path is inside by construction. A full realpath per file also resolved every component of
    root again, thousands of times per plan.
    """
    path = root
    for part in rel.split("/"):
        path = os.path.join(path, part)
        if os.path.islink(path):
            return inside(root, os.path.join(root, rel))
    return True
