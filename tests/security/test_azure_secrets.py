"""Azure's two secrets through every command, end to end: AZURE_OPENAI_API_KEY (data plane)
and AZURE_ACCESS_TOKEN (ARM) reach an Azure-dialect emulator on loopback that requires exactly
them; then each is wrong (401) and the commands fail, with and without --debug. Neither
appears in any output or in any file the commands leave in the project."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.server import RunningServer, start_in_background
from tests.security_plugin import files_containing, new_canary

KEY_ENV, TOKEN_ENV = "AZURE_OPENAI_API_KEY", "AZURE_ACCESS_TOKEN"


@pytest.fixture
def secrets() -> tuple[str, str]:
    return new_canary(), "eyJ0eXAi" + new_canary()  # a key, and a token shaped like a JWT


@pytest.fixture
def server(tmp_path: Path, secrets: tuple[str, str]) -> Iterator[RunningServer]:
    key, token = secrets
    with start_in_background(str(tmp_path / "remote.db"), api_key=key, speed=5000.0,
                             dialect="azure", azure=AzureSettings(access_token=token)) as running:
        yield running


def project(root: Path, endpoint: str) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: sec\nprovider:\n  type: azure\n"
        f"  endpoint: {endpoint}\n  management_endpoint: {endpoint}\n"
        "  subscription_id: sub\n  resource_group: rg\n  account: acct\n")
    rows = [json.dumps({"messages": [{"role": "user", "content": f"order {i}?"},
                                     {"role": "assistant", "content": f"tracking {i}"}]})
            for i in range(12)]
    (root / "data" / "train.jsonl").write_text("\n".join(rows) + "\n")
    (root / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: bot}\nspec:\n"
        "  model: gpt-4o-mini-2024-07-18\n  training_file: ../data/train.jsonl\n"
        "  deployment: {sku: GlobalStandard}\n")
    return root


COMMANDS = [
    ("validate",), ("plan",), ("plan", "--format", "json"), ("plan", "--format", "markdown"),
    ("plan", "--out", "{root}/saved.json"), ("apply", "--auto-approve"), ("show",),
    ("show", "--format", "json"), ("output",), ("drift",), ("jobs", "list"),
    ("models", "list"), ("plan", "--detailed-exitcode"),
]


def test_azure_secrets_never_appear_in_any_output_or_file(
    tmp_path: Path, secrets: tuple[str, str], server: RunningServer,
) -> None:
    key, token = secrets
    root = project(tmp_path / "repo", server.endpoint)
    env = {KEY_ENV: key, TOKEN_ENV: token, "OPENAI_BASE_URL": "", "NO_COLOR": "1"}
    codes = {}
    for template in COMMANDS:
        args = tuple(a.format(root=root) for a in template)
        result = CliRunner().invoke(main, ["-C", str(root), *args], env=env)
        output = result.stdout + result.stderr
        codes[" ".join(args)] = result.exit_code
        assert key not in output and token not in output, f"`ftctl {' '.join(args)}` leaked"
    assert all(c == 0 for c in codes.values()), codes  # trained; the last plan saw no changes
    assert (root / "saved.json").exists()
    assert files_containing(root, key) == [] and files_containing(root, token) == []


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("wrong", [KEY_ENV, TOKEN_ENV])
def test_a_rejected_secret_is_not_shown_even_with_debug(
    tmp_path: Path, secrets: tuple[str, str], server: RunningServer, debug: bool, wrong: str,
) -> None:
    root = project(tmp_path / "repo", server.endpoint)
    key, token = secrets
    bad = new_canary()
    env = {KEY_ENV: key, TOKEN_ENV: token, wrong: bad, "OPENAI_BASE_URL": "", "NO_COLOR": "1"}
    flags = ["--debug"] if debug else []
    # Only the data plane is used today, so a wrong token is not refused yet; a wrong key is.
    commands = (("plan",), ("apply", "--auto-approve"), ("models", "list"), ("drift",))
    for args in commands:
        result = CliRunner().invoke(main, [*flags, "-C", str(root), *args], env=env)
        shown = result.stdout + result.stderr + repr(result.exception)
        if result.exc_info is not None:
            shown += "".join(traceback.format_exception(*result.exc_info))
        if wrong == KEY_ENV:
            assert result.exit_code == 1, shown
        for secret in (bad, key, token):
            assert secret not in shown and secret[-12:] not in shown
    assert files_containing(root, bad) == []


def test_arm_with_a_wrong_token_fails_without_showing_it(
    tmp_path: Path, secrets: tuple[str, str], server: RunningServer,
) -> None:
    from reconciler.client import connect
    from reconciler.errors import PermanentApiError
    from reconciler.loader import load_project

    key, token = secrets
    root = project(tmp_path / "repo", server.endpoint)
    desired = load_project(str(root)).desired
    assert desired is not None
    right = connect(desired.settings, {KEY_ENV: key, TOKEN_ENV: token})
    assert right.arm.list_deployments() == []  # type: ignore[attr-defined]
    assert key not in repr(right) and token not in repr(right)
    right.close()
    bad = new_canary()
    wrong = connect(desired.settings, {KEY_ENV: key, TOKEN_ENV: bad})
    with pytest.raises(PermanentApiError) as refused:
        wrong.arm.list_deployments()  # type: ignore[attr-defined]
    wrong.close()
    assert refused.value.status == 401
    text = str(refused.value) + repr(refused.value) + "".join(
        traceback.format_exception(refused.value))
    assert bad not in text and token not in text and key not in text


def _fill_files(endpoint: str, key: str) -> int:
    """Uploads small files (not ftctl's names, so never cleaned up) until the resource's
    file limit refuses one; how many it took."""
    import httpx

    n = 0
    with httpx.Client(base_url=endpoint + "/openai/v1", headers={"api-key": key}) as client:
        while True:
            r = client.post("/files", files={"file": (f"other-{n}.jsonl", b"{}\n")},
                            data={"purpose": "fine-tune"})
            if r.status_code != 200:
                assert r.json()["error"]["code"] == "quotaExceeded", r.text
                return n
            n += 1


def test_cost_limit_and_cleanup_output_never_shows_the_secrets(
    tmp_path: Path, secrets: tuple[str, str], server: RunningServer,
) -> None:
    """The output paths of hosting cost (--max-monthly-cost, JSON's monthly_hosting_usd), the
    guardrails' errors, the limits refused at plan and apply, and file cleanup."""
    key, token = secrets
    root = project(tmp_path / "repo", server.endpoint)
    with (root / "ftctl.yaml").open("a") as fh:
        fh.write("prune: true\nprices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n"
                 "    hosting_per_hour: 1.7\n")
    env = {KEY_ENV: key, TOKEN_ENV: token, "OPENAI_BASE_URL": "", "NO_COLOR": "1"}
    shown: dict[str, tuple[int, str]] = {}

    def run(*args: str) -> None:
        result = CliRunner().invoke(main, ["-C", str(root), *args], env=env)
        text = result.stdout + result.stderr
        assert key not in text and token not in text, f"`ftctl {' '.join(args)}` leaked"
        shown[" ".join(args)] = (result.exit_code, text)

    run("plan", "--max-monthly-cost", "0")  # a new deployment: refused by the hosting guardrail
    run("apply", "--auto-approve")
    assert shown["apply --auto-approve"][0] == 0, shown["apply --auto-approve"][1]
    train = root / "data" / "train.jsonl"
    train.write_text(train.read_text() + train.read_text().splitlines()[0] + "\n")
    for fmt in ("text", "json", "markdown"):
        run("plan", "--format", fmt, "--max-monthly-cost", "100")
    run("plan", "--max-cost", "0")  # the training-cost guardrail's error
    run("apply", "--auto-approve", "--max-monthly-cost", "100")  # retrains, deletes a file
    assert "delete file " in shown["plan --format text --max-monthly-cost 100"][1]
    assert '"monthly_hosting_usd"' in shown["plan --format json --max-monthly-cost 100"][1]
    assert "max-cost" in shown["plan --max-cost 0"][1]
    assert shown["plan --max-monthly-cost 0"][0] == 1
    assert "max-monthly-cost" in shown["plan --max-monthly-cost 0"][1]
    assert _fill_files(server.endpoint, key) > 0
    (root / "models" / "two.yaml").write_text(
        (root / "models" / "bot.yaml").read_text().replace("name: bot", "name: two")
        .replace("train.jsonl", "two.jsonl"))
    (root / "data" / "two.jsonl").write_text(train.read_text().replace("order", "parcel"))
    for fmt in ("text", "json", "markdown"):
        run("plan", "--format", fmt)
    run("plan", "--out", f"{root}/refused.json")
    run("apply", "--auto-approve")
    limit = "over its limit of 100"
    assert all(limit in shown[c][1] and shown[c][0] == 1 for c in (
        "plan --format text", "plan --format json", "plan --format markdown",
        "apply --auto-approve")), {c: v[1][-400:] for c, v in shown.items()}
    # (the first `apply --auto-approve` succeeded; the key now holds the refused second one)
    assert [c for c, (code, _) in shown.items() if code != 0] == [
        "plan --max-monthly-cost 0", "apply --auto-approve", "plan --max-cost 0",
        "plan --format text", "plan --format json", "plan --format markdown",
        f"plan --out {root}/refused.json"]
    assert not (root / "refused.json").exists()
    assert files_containing(root, key) == [] and files_containing(root, token) == []
