"""Where the running ftctl was installed from, as the pip requirement a CI job should install.

Read from the distribution's own install record (PEP 610 `direct_url.json`): a VCS URL pinned
to its commit, a remote archive pinned by its hash, or `ftctl==VERSION` only when there is no
direct-URL record, which means pip took it from a package index. A local directory (a clone,
an editable install), a local file or an unreadable record gives no requirement: CI cannot
install those, and guessing an index name instead would let whoever registers that name run
code in jobs that hold the provider's key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata

DISTRIBUTION = "ftctl"
EXAMPLE = "ftctl @ git+https://github.com/OWNER/ftctl@COMMIT"

# A requirement is written into a YAML string in a GitHub workflow: anything that could end
# the string or be read as an expression (`${{ }}`) is refused rather than escaped.
_SAFE = re.compile(r"^[A-Za-z0-9._-]+(==[A-Za-z0-9.+!_-]+| @ [A-Za-z0-9+.:/@%#=&~_,-]+)$")
_UNSAFE_TEXT = re.compile(r"[^A-Za-z0-9 ._/:@+=,()~-]")
_HASHES = ("sha256", "sha384", "sha512")


@dataclass(frozen=True, slots=True)
class InstallSource:
    """requirement None: the source cannot be installed elsewhere (origin says what it is)."""

    requirement: str | None
    origin: str


def running_install(distribution: str = DISTRIBUTION) -> InstallSource:
    """The install source of the ftctl distribution in this environment."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return InstallSource(None, "a source tree without an install record")
    return from_record(dist.metadata["Name"] or distribution, dist.version,
                       dist.read_text("direct_url.json"))


def from_record(name: str, version: str, direct_url: str | None) -> InstallSource:
    """The requirement for a distribution given its direct_url.json text (None: none)."""
    if direct_url is None:
        return _checked(f"{name}=={version}", f"a package index ({name} {version})")
    try:
        record = json.loads(direct_url)
    except ValueError:
        return InstallSource(None, "an unreadable install record (direct_url.json)")
    url = record.get("url") if isinstance(record, dict) else None
    if not isinstance(url, str) or not url:
        return InstallSource(None, "an unreadable install record (direct_url.json)")
    if url.startswith("file:"):
        return InstallSource(None, f"the local path {url.removeprefix('file://')}")
    fragment = _subdirectory(record)
    vcs = record.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        if not isinstance(commit, str) or not commit:
            return InstallSource(None, f"{url} without a recorded commit")
        requirement = f"{name} @ {vcs.get('vcs', 'git')}+{url}@{commit}"
        return _checked(requirement + (f"#{fragment}" if fragment else ""),
                        f"{url} at commit {commit}")
    archive = record.get("archive_info")
    if isinstance(archive, dict):
        digest = _archive_hash(archive)
        if digest is None:
            return InstallSource(None, f"the archive {url} without a recorded hash")
        pin = "&".join(p for p in (digest, fragment) if p)
        return _checked(f"{name} @ {url}#{pin}", f"the archive {url}")
    return InstallSource(None, f"{url} (not a VCS URL or an archive)")


def _subdirectory(record: dict[str, object]) -> str:
    sub = record.get("subdirectory")
    return f"subdirectory={sub}" if isinstance(sub, str) and sub else ""


def _archive_hash(archive: dict[str, object]) -> str | None:
    """`sha256=HEX` from `hashes` (PEP 610) or the older single `hash` entry."""
    hashes = archive.get("hashes")
    if isinstance(hashes, dict):
        for algorithm in _HASHES:
            value = hashes.get(algorithm)
            if isinstance(value, str) and value:
                return f"{algorithm}={value}"
    single = archive.get("hash")
    if isinstance(single, str) and single.split("=", 1)[0] in _HASHES and "=" in single:
        return single
    return None


def _checked(requirement: str, origin: str) -> InstallSource:
    if _SAFE.match(requirement):
        return InstallSource(requirement, origin)
    return InstallSource(None, f"{origin}, whose URL cannot be written safely into a workflow")


def placeholder(source: InstallSource) -> str:
    """What the workflow installs when there is no requirement: a value pip refuses with an
    error that says what to put there (never a package name anyone could register)."""
    origin = _UNSAFE_TEXT.sub("?", source.origin)  # a path may hold quotes or `${{`
    return (
        f"SET FTCTL_PACKAGE: the ftctl that ran ftctl init came from {origin}, which "
        f"CI cannot install. Put a pinned requirement here, such as {EXAMPLE}"
    )
