"""paths.Listing answers "inside, and what is it" from directory listings; wherever it answers
at all, the answer equals the system calls' (lstat per component, stat), and a symlink
anywhere on the way makes it step aside so that the full check runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.loader import check_dataset_path
from reconciler.paths import Listing, stays_inside


@pytest.fixture
def project(tmp_path: Path) -> Path:
    outside = tmp_path / "outside.jsonl"
    outside.write_text("{}\n")
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "data" / "dir").mkdir(parents=True)
    (root / "data" / "a.jsonl").write_text("{}\n")
    os.symlink(root / "data" / "a.jsonl", root / "data" / "link-in.jsonl")
    os.symlink(outside, root / "data" / "link-out.jsonl")
    os.symlink(root / "data", root / "linked")
    os.symlink(tmp_path, root / "escape")
    return root


def test_plain_entries_only(project: Path) -> None:
    listing = Listing(str(project))
    entry = listing.plain("data/a.jsonl")
    assert entry is not None and entry.is_file(follow_symlinks=False)
    directory = listing.plain("data/dir")
    assert directory is not None and directory.is_dir(follow_symlinks=False)
    for rel in ("data/link-in.jsonl", "data/link-out.jsonl", "linked", "linked/a.jsonl",
                "escape/outside.jsonl", "data/missing", "data/a.jsonl/x", ".", "data/./a.jsonl"):
        assert listing.plain(rel) is None, rel


PATHS = ["../data/a.jsonl", "../data/dir", "../data/link-in.jsonl", "../data/link-out.jsonl",
         "../linked/a.jsonl", "../escape/outside.jsonl", "../data/nope.jsonl",
         "../data/a.jsonl/x", "..", ".", "../data", "../data/", "/etc/passwd",
         "../../outside.jsonl"]


@pytest.mark.parametrize("path", PATHS)
def test_dataset_checks_say_the_same_with_a_listing(project: Path, path: str) -> None:
    root = str(project)
    listing = Listing(root)
    listing.plain("data/a.jsonl")  # a listing already in use answers the same
    assert check_dataset_path(path, "models", root, None, listing) == \
        check_dataset_path(path, "models", root, None)


@pytest.mark.parametrize("rel", ["data/a.jsonl", "data/link-in.jsonl", "data/link-out.jsonl",
                                 "linked/a.jsonl", "escape/outside.jsonl", "data/missing"])
def test_stays_inside_says_the_same_with_a_listing(project: Path, rel: str) -> None:
    root = str(project)
    assert stays_inside(root, rel, Listing(root)) == stays_inside(root, rel)
