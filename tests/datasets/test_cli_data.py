"""`ftctl data check|stats|convert` end to end through click: output lines, JSON, exit codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import orjson
from click.testing import CliRunner

from reconciler.cli import main

LINE = re.compile(r"^(?P<file>[^:]+)(:(?P<line>\d+))?: (error|warning|info): [a-z0-9_]+: .+$")


def _chat(i: int) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": f"q{i}"},
                         {"role": "assistant", "content": f"a{i}"}]}


def test_check_reports_every_problem_and_exits_1(write_jsonl: Callable[..., str]) -> None:
    rows: list[object] = [_chat(i) for i in range(12)]
    rows[3] = b"{not json"
    rows[7] = {"messages": [{"role": "robot", "content": "x"},
                            {"role": "assistant", "content": "y"}]}
    path = write_jsonl("t.jsonl", rows)
    result = CliRunner().invoke(main, ["data", "check", path, "--no-tokens"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert f"{path}:4: error: invalid_json:" in result.stderr
    assert f"{path}:8: error: unrecognized_role:" in result.stderr
    assert "FAILED" in result.stdout


def test_check_clean_file_exits_0_and_json_format(write_jsonl: Callable[..., str]) -> None:
    path = write_jsonl("ok.jsonl", [_chat(i) for i in range(60)])
    result = CliRunner().invoke(main, ["data", "check", path, "--model", "gpt-4o-mini-2024-07-18",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.stdout)
    (report,) = body["files"]
    assert (report["examples"], report["format"], report["errors"]) == (60, "chat", 0)
    assert report["encoding"] == "o200k_base" and report["tokens"] > 60 * 10


def test_check_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "check", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1 and "file_not_found" in result.stderr


def test_stats_prints_numbers_and_histogram(write_jsonl: Callable[..., str]) -> None:
    rows = [{"messages": [{"role": "user", "content": "word " * (i + 1)},
                          {"role": "assistant", "content": "ok"}]} for i in range(40)]
    path = write_jsonl("s.jsonl", rows)
    result = CliRunner().invoke(main, ["data", "stats", path])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "40 examples" in out and "median" in out and "epochs: 3" in out
    assert "example length (tokens):" in out and "#" in out
    json_out = CliRunner().invoke(main, ["data", "stats", path, "--format", "json",
                                         "--n-epochs", "2"])
    (stats,) = orjson.loads(json_out.stdout)["files"]
    assert stats["epochs"] == 2 and stats["charged_tokens"] == 2 * stats["billable"]
    assert sum(b["examples"] for b in stats["histogram"]) == 40


def test_convert_command(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Prompt,completion\nq,a\nr,\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["data", "convert", str(src), "-o", str(out), "--to", "chat"])
    assert result.exit_code == 1
    assert f"{src}:1: warning: header_case:" in result.stderr
    assert f"{src}:3: error: empty_completion:" in result.stderr
    assert "wrote 1 of 2" in result.stdout
    assert orjson.loads(out.read_bytes())["messages"][1] == {"role": "assistant", "content": "a"}


def test_check_refuses_csv_with_convert_hint(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("prompt,completion\nq,a\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["data", "check", str(src)])
    assert result.exit_code == 1 and "not_jsonl" in result.stderr


def test_stats_uses_project_prices(tmp_path: Path, write_jsonl: Callable[..., str]) -> None:
    (tmp_path / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: w\n"
        "prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n", encoding="utf-8")
    path = write_jsonl("p.jsonl", [_chat(i) for i in range(20)])
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "stats", path,
                                       "--format", "json"])
    (stats,) = orjson.loads(result.stdout)["files"]
    assert stats["epochs"] == 5 and stats["charged_tokens"] == 5 * stats["billable"]
    assert stats["cost_usd"] == round(stats["charged_tokens"] * 3.0 / 1e6, 6)
    assert stats["hosting_usd_month"] is None  # no hosting rate: not guessed


def test_stats_shows_the_monthly_hosting_of_one_deployment(
    tmp_path: Path, write_jsonl: Callable[..., str],
) -> None:
    (tmp_path / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: w\n"
        "prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n"
        "    hosting_per_hour: 1.70\n", encoding="utf-8")
    path = write_jsonl("h.jsonl", [_chat(i) for i in range(20)])
    text = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "stats", path])
    assert text.exit_code == 0, text.output
    assert "hosting one deployment: ~$1,241.00/month (730 h, used or not)" in text.stdout
    json_out = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "stats", path,
                                         "--format", "json"])
    (stats,) = orjson.loads(json_out.stdout)["files"]
    assert stats["hosting_usd_month"] == 1241.0


def test_check_counts_tokens_by_default_and_says_which_tokenizer(
        write_jsonl: Callable[..., str], tmp_path: Path) -> None:
    path = write_jsonl("d.jsonl", [_chat(i) for i in range(20)])
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", path])
    assert result.exit_code == 0, result.output
    assert "tokens (o200k_base, default; pass --model), 5 epoch(s), ~" in result.stdout
    assert "cost unknown (no base model)" in result.stdout
    body = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", path, "--format",
                                     "json"]).stdout
    (report,) = orjson.loads(body)["files"]
    assert report["encoding"] == "o200k_base" and report["epochs"] == 5
    assert report["charged_tokens"] == 5 * report["tokens"] and report["cost_usd"] is None


def test_check_in_a_project_uses_the_manifest_model_and_prices(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: w\n"
        "prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n")
    (tmp_path / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata:\n  name: bot\n"
        "spec:\n  model: gpt-4o-mini-2024-07-18\n  training_file: ../data/t.jsonl\n")
    data = tmp_path / "data" / "t.jsonl"
    data.write_bytes(b"".join(orjson.dumps(_chat(i)) + b"\n" for i in range(40)))
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", str(data),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    (report,) = orjson.loads(result.stdout)["files"]
    assert report["model"] == "gpt-4o-mini-2024-07-18"
    assert report["model_source"] == "base model of bot"
    assert report["cost_usd"] == round(report["charged_tokens"] * 3.0 / 1e6, 6) > 0
    text = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", str(data)]).stdout
    assert "(o200k_base, gpt-4o-mini-2024-07-18: base model of bot), 3 epoch(s)" in text
    assert "est. $" in text


def test_check_markdown_report_counts_codes_and_first_lines(
        write_jsonl: Callable[..., str], tmp_path: Path) -> None:
    rows: list[object] = [_chat(i) for i in range(12)]
    for at in (2, 5, 8):
        rows.insert(at, b"")
    rows[10] = b"{not json"
    path = write_jsonl("m.jsonl", rows)
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", path, "--no-tokens",
                                       "--format", "markdown"])
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith("## ftctl data check: 1 file(s) failed\n")
    assert f"| `{path}` | ❌ failed | 11 | tokens not counted | 1 | 3 |" in out
    assert "| `invalid_json` | ❌ error | 1 | 11 |" in out
    assert "| `blank_line` | ⚠️ warning | 3 | 3, 6, 9 |" in out
    assert out.index("`invalid_json`") < out.index("`blank_line`")  # errors first
