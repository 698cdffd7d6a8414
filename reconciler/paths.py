"""Paths inside the project: the one check that a path, symlinks resolved, stays inside it.

Datasets, manifests, the settings file, the dataset cache and the local emulator's state all
live under the project directory; a symlink that leads elsewhere must not make ftctl read,
upload or write outside it. `Listing` answers the same questions for thousands of paths from
one directory listing per directory instead of system calls per path. Stdlib only.
"""

from __future__ import annotations

import os


def inside(root: str, path: str) -> bool:
    """`path`, symlinks resolved, lies inside `root` (also resolved)."""
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([real_root, real]) == real_root


def stays_inside(root: str, rel: str, listing: Listing | None = None) -> bool:
    """`inside(root, root/rel)` for a normalized relative `rel` (no leading ..), cheaply.

    Only rel's own components are looked at (one lstat each, or none when `listing` shows
    them): without a symlink among them the path is inside by construction. A full realpath
    per file also resolved every component of root again, thousands of times per plan.
    """
    if listing is not None and listing.plain(rel) is not None:
        return True
    path = root
    for part in rel.split("/"):
        path = os.path.join(path, part)
        if os.path.islink(path):
            return inside(root, os.path.join(root, rel))
    return True


class Listing:
    """The entries of the project's directories, each directory listed once, for one load.

    Loading thousands of manifests asked the system about every path several times (is it a
    link, a file, a directory; about 5 us a call, a fifth of the load); one `scandir` per
    directory answers the same from its entries' types. It only ever answers "yes, plainly":
    a path it does not show (not there, a symlink on the way, a case-insensitive file system,
    an unreadable directory) is for the caller to ask the system about, as before. A listing
    is a snapshot: make one per load, not per process.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._dirs: dict[str, dict[str, os.DirEntry[str]] | None] = {}

    def plain(self, rel: str) -> os.DirEntry[str] | None:
        """The entry of root/rel (a normalized POSIX path) when it and every directory above
        it are listed and none of them is a symlink; else None."""
        parent, _, name = rel.rpartition("/")
        entries = self._entries(parent)
        entry = entries.get(name) if entries is not None else None
        if entry is None or entry.is_symlink():
            return None
        return entry

    def _entries(self, rel_dir: str) -> dict[str, os.DirEntry[str]] | None:
        if rel_dir in self._dirs:
            return self._dirs[rel_dir]
        entries = None
        if rel_dir == "" or self._is_plain_dir(rel_dir):
            try:
                with os.scandir(os.path.join(self.root, rel_dir)) as found:
                    entries = {entry.name: entry for entry in found}
            except OSError:
                entries = None
        self._dirs[rel_dir] = entries
        return entries

    def _is_plain_dir(self, rel_dir: str) -> bool:
        entry = self.plain(rel_dir)
        return entry is not None and entry.is_dir(follow_symlinks=False)
