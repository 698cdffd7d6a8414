"""`ftctl init`: scaffold a ready project from the templates shipped in `reconciler/templates`.

Writes ftctl.yaml (provider local), one manifest, a small valid chat dataset, the GitHub
workflow and a .gitignore. Never overwrites a file unless asked to (`force`); when files are in
the way, all of them are named at once and nothing is written. Never prints (the CLI does).

Template file names use `dot-` for a leading dot (`dot-github` -> `.github`) because packaging
tools skip hidden files when collecting package data, and `__NAME__` for the model name. A
provider's own version of a file sits next to it as `NAME.PROVIDER.EXT` (`ftctl.azure.yaml`)
and replaces it for that provider; the workflow of `--provider azure` is derived from the one
template by init_azure.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from reconciler.app.init_azure import azure_workflow
from reconciler.app.install_source import (
    EXAMPLE,
    InstallSource,
    placeholder,
    running_install,
)
from reconciler.errors import ConfigError

DEFAULT_NAME = "support-bot"
PROVIDERS = ("openai", "azure")  # openai: the local emulator first, then OpenAI
WORKFLOW = ".github/workflows/ftctl.yml"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MAX_NAME = 64  # the model suffix, which defaults to the name, is limited to 64 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class InitResult:
    """What `scaffold` did. Paths are POSIX, relative to `root`."""

    root: str
    name: str
    workspace: str
    written: tuple[str, ...]
    overwritten: tuple[str, ...] = ()
    appended: tuple[str, ...] = ()  # existing files that got ftctl's lines added (.gitignore)
    unchanged: tuple[str, ...] = ()  # existing files that already had them
    git_root: str | None = None  # the enclosing git repository, when there is one
    install: InstallSource | None = None  # what the workflow installs (None: not known)
    provider: str = "openai"


def slug(text: str) -> str:
    """A workspace name from a directory name: lower-case letters, digits and dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:_MAX_NAME].strip("-") or "ftctl"


def _check_name(name: str, what: str) -> None:
    if not _NAME_RE.match(name) or len(name) > _MAX_NAME:
        raise ConfigError(
            f"{what} {name!r} is not valid: use lower-case letters, digits and dashes, "
            f"starting with a letter or digit, at most {_MAX_NAME} characters."
        )


def _templates() -> Traversable:
    return resources.files("reconciler").joinpath("templates")


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every template file as (path parts, text), sorted for a stable order."""
    found: list[tuple[tuple[str, ...], str]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        parts = (*prefix, child.name)
        if child.is_dir():
            found.extend(_walk(child, parts))
        else:
            found.append((parts, child.read_text(encoding="utf-8")))
    return found


def _destination(parts: tuple[str, ...], name: str) -> str:
    out = []
    for part in parts:
        if part.startswith("dot-"):
            part = "." + part[len("dot-") :]
        out.append(part.replace("__NAME__", name))
    return "/".join(out)


def _for_provider(parts: tuple[str, ...], provider: str) -> tuple[str, ...] | None:
    """The path a template file has for `provider`, or None when it is another provider's."""
    stem, dot, ext = parts[-1].rpartition(".")
    variant = stem.rpartition(".")[2] if "." in stem else None
    if variant not in PROVIDERS:
        return parts
    if variant != provider:
        return None
    return (*parts[:-1], stem.rpartition(".")[0] + dot + ext)


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ConfigError(f"Provider {provider!r} is not one init scaffolds: "
                          f"use one of {', '.join(PROVIDERS)}.")


def render_files(
    *, name: str, workspace: str, install: InstallSource | None = None,
    provider: str = "openai",
) -> dict[str, str]:
    """The scaffold as {relative POSIX path: text}. Pure apart from reading package data.

    install: where the workflow's ftctl comes from (default: the running ftctl's own source).
    provider: "openai" (the local emulator, then OpenAI) or "azure" (Azure OpenAI, OIDC).
    """
    _check_provider(provider)
    install = install or running_install()
    package = install.requirement or placeholder(install)
    values = {
        "__NAME__": name,
        "__WORKSPACE__": workspace,
        "__FTCTL_PACKAGE__": json.dumps(package),  # a YAML double-quoted string
    }
    files: dict[str, str] = {}
    overridden: set[str] = set()  # paths a provider's own template has filled
    for parts, text in _walk(_templates()):
        own = _for_provider(parts, provider)
        if own is None:
            continue
        path = _destination(own, name)
        if path in overridden:
            continue
        if own != parts:
            overridden.add(path)
        for key, value in values.items():
            text = text.replace(key, value)
        files[path] = text
    if provider == "azure":
        files[WORKFLOW] = azure_workflow(files[WORKFLOW])
    return dict(sorted(files.items()))


# Files a user's repository often has already: ftctl's lines are appended to them (those not
# there yet) instead of refusing, which is not an overwrite and loses nothing of theirs.
_MERGED = frozenset({".gitignore"})


def scaffold(
    directory: str,
    *,
    name: str = DEFAULT_NAME,
    workspace: str | None = None,
    force: bool = False,
    install: InstallSource | None = None,
    provider: str = "openai",
) -> InitResult:
    """Write the scaffold into `directory` (created if missing), for `provider` (PROVIDERS).

    Raises ConfigError, before writing anything, for an invalid name or when files exist and
    `force` is false. An existing .gitignore gets the missing lines appended.
    """
    root = os.path.abspath(directory)
    workspace = workspace or slug(os.path.basename(root))
    _check_name(name, "Model name")
    _check_name(workspace, "Workspace name")
    if os.path.exists(root) and not os.path.isdir(root):
        raise ConfigError(f"{directory} exists and is not a directory.")
    install = install or running_install()
    files = render_files(name=name, workspace=workspace, install=install, provider=provider)
    existing = tuple(p for p in files if os.path.lexists(_target(root, p)))
    conflicts = tuple(p for p in existing if p not in _MERGED)
    if conflicts and not force:
        raise ConfigError(
            f"Refusing to overwrite existing files in {directory}: {', '.join(conflicts)}. "
            "Move them away, or rerun with --force to replace them."
        )
    appended: list[str] = []
    unchanged: list[str] = []
    for path, text in files.items():
        target = _target(root, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if path in _MERGED and os.path.isfile(target):
            (appended if _append_missing_lines(target, text) else unchanged).append(path)
            continue
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return InitResult(
        root=root,
        name=name,
        workspace=workspace,
        written=tuple(files),
        overwritten=tuple(p for p in existing if p not in _MERGED),
        appended=tuple(appended),
        unchanged=tuple(unchanged),
        git_root=find_git_root(root),
        install=install,
        provider=provider,
    )


def _target(root: str, path: str) -> str:
    return os.path.join(root, *path.split("/"))


def _append_missing_lines(target: str, text: str) -> bool:
    """Append the lines of `text` that `target` lacks, each with the comments above it."""
    with open(target, encoding="utf-8") as handle:
        current = handle.read()
    have = {line.strip() for line in current.splitlines()}
    block: list[str] = []
    comments: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            comments.append(line)
        elif line.strip():
            if line.strip() not in have:
                block += [*comments, line]
            comments = []
    if not block:
        return False
    separator = "" if not current or current.endswith("\n") else "\n"
    with open(target, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(separator + "\n" + "\n".join(block) + "\n")
    return True


def find_git_root(start: str) -> str | None:
    """The nearest directory at or above `start` holding `.git`, if any."""
    current = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _note(path: str, result: InitResult) -> str:
    if path in result.overwritten:
        return " (overwritten)"
    if path in result.appended:
        return " (lines added)"
    if path in result.unchanged:
        return " (unchanged: already has ftctl's lines)"
    return ""


def next_steps(result: InitResult, *, shown_dir: str) -> str:
    """What to do after `init`, as text for the terminal."""
    cd = "" if shown_dir in ("", ".") else f"cd {shown_dir}\n  "
    lines = [f"Created ftctl project {result.workspace!r} in {shown_dir}:"]
    lines += [f"  {path}{_note(path, result)}" for path in result.written]
    lines += _azure_steps(cd) if result.provider == "azure" else [
        "",
        "Next steps:",
        f"  {cd}ftctl validate          # manifests and datasets, no network",
        "  ftctl plan              # what apply would do (provider: local, no key needed)",
        "  ftctl apply             # train on the built-in emulator and watch it finish",
        "",
        "Then commit, push and open a pull request: .github/workflows/ftctl.yml posts the plan",
        "as a comment and applies it on merge. To train for real, set `provider: {type: openai}`",
        "in ftctl.yaml and add OPENAI_API_KEY to the repository's Actions secrets.",
        "Guide: docs/getting-started.md in the ftctl documentation.",
    ]
    lines += _install_note(result.install)
    if result.git_root and result.git_root != result.root:
        # GitHub only runs workflows from the repository root's .github/workflows.
        lines += [
            "",
            f"Note: this project is inside the git repository {result.git_root}; move",
            ".github/workflows/ftctl.yml to that repository's root and set",
            "`defaults.run.working-directory` in it to this project's directory.",
        ]
    return "\n".join(lines)


def _azure_steps(cd: str) -> list[str]:
    return [
        "",
        "Next steps:",
        *([f"  {cd.strip()}"] if cd else []),
        "  # in ftctl.yaml, replace the RESOURCE placeholders with your Azure OpenAI resource",
        "  ftctl validate          # manifests and datasets, no network",
        "  ftctl plan              # needs AZURE_OPENAI_API_KEY, or `az login` and",
        "                          # pip install 'ftctl[azure]' (Entra ID sign-in)",
        "",
        "To rehearse offline first, set `provider: {type: local, dialect: azure}`.",
        "For CI, .github/workflows/ftctl.yml signs in with OIDC: set the repository variables",
        "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID (an identity with a",
        "federated credential for this repository, \"Azure AI User\" on the resource), and",
        "optionally the secret AZURE_OPENAI_API_KEY.",
        "Guide: docs/azure.md in the ftctl documentation.",
    ]


def _install_note(install: InstallSource | None) -> list[str]:
    """What the workflow installs, and when it cannot know: what the user must set."""
    if install is None:
        return []
    if install.requirement is not None:
        return ["", f"The workflow installs {install.requirement} (the ftctl you ran, from "
                    f"{install.origin})."]
    return [
        "",
        f"Action needed: this ftctl was installed from {install.origin}, which CI cannot",
        "install, so FTCTL_PACKAGE in .github/workflows/ftctl.yml is a placeholder that fails",
        "the install step. Set it to a pinned requirement, such as:",
        f"  {EXAMPLE}",
    ]
