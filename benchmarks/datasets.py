"""Dataset validation benchmark: `python -m benchmarks.datasets [--rows N] [--runs N]`.

Measures, in one run on the same machine and the same generated files:
- structure-only validation of a chat file vs the floor of orjson-parsing every line;
- the same vs legacy `openai tools fine_tunes.prepare_data` (openai==0.28.1 + pandas 2.0.3,
  installed only in benchmarks/.venv-legacy, which this script creates) on a prompt/completion
  file of the same size;
- validation with token counts vs the cookbook's checks, both with bpe-openai and o200k_base;
- peak memory, linearity (50k vs N rows) and the cost of a 5%-dirty file;
- the same ftctl runs with the code before issue 14 (BASELINE_COMMIT, unpacked by `git archive`
  under benchmarks/.data/), side by side in this run: memory with tokens and structure-only.
Commands whose ratios are claimed run in turn (floor, ftctl, baseline, floor, ...), so a change
in the machine's load during the run weighs on both sides of a ratio alike.
Every tool runs in its own process under GNU time (wall, CPU, largest process's peak RSS) while
benchmarks/memtree.py samples the whole process tree: the peak of the summed PSS (each page
once; a tokenizer shared by forked workers counts once) and of the summed RSS (shared pages in
every process). Prints Markdown; writes benchmarks/results/datasets.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import datasets_data as data
from benchmarks.memtree import run_tree

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "datasets.json")
LEGACY_VENV = os.path.join(HERE, ".venv-legacy")
LEGACY_PACKAGES = ("openai==0.28.1", "pandas==2.0.3", "numpy<2", "openpyxl")
TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None  # GNU time, for peak RSS
MODEL = "gpt-4o-mini-2024-07-18"  # o200k_base for both ftctl and the cookbook
# The last commit before issue 14 (severities, shared tokenizer, compact duplicate table).
BASELINE_COMMIT = "e5cf43bd5bd71b55319b2289c2052afb36eaf225"


def _bench_line(out: str) -> dict[str, Any]:
    for line in out.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    return {}


def run_once(cmd: Sequence[str], cwd: str | None = None,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run cmd as a child under /usr/bin/time: wall, CPU (with its children) and peak RSS, and
    the peaks of PSS and RSS summed over its process tree (memtree; GNU time's own process
    adds well under 1 MB to those sums).

    GNU time forks from a tiny process, so the peak RSS is the command's own, not inherited
    from this (larger) parent, which is what wait4 alone would report after fork + exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        wrapped = [TIME, "-o", stats.name, "-f", "%e %U %S %M", *cmd] if TIME else list(cmd)
        tree = run_tree(wrapped, cwd=cwd, env=env)
        wall = tree["wall"]
        proc = subprocess.CompletedProcess(wrapped, tree["exit"], tree["stdout"])
        fields = stats.read().split()
    if TIME and len(fields) >= 4:
        e, u, s_, kb = fields[-4:]
        wall, cpu, rss = float(e), float(u) + float(s_), int(kb) / 1024
    else:  # no GNU time: this process's children (an upper bound on peak RSS)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "rss_mb": rss, "exit": proc.returncode,
            "pss_sum_mb": tree["pss_sum_mb"], "rss_sum_mb": tree["rss_sum_mb"],
            "processes": tree["processes"], **_bench_line(proc.stdout)}


def measure(cmd: Sequence[str], runs: int, cwd: str | None = None,
            before: Any = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Median wall/CPU/inner seconds and the largest peak memory figures over `runs` runs."""
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        samples.append(run_once(cmd, cwd, env))
    return _summary(samples)


Command = tuple[Sequence[str], str | None, dict[str, str] | None]  # (argv, cwd, environment)


def side_by_side(commands: dict[str, Command], runs: int) -> dict[str, dict[str, Any]]:
    """measure() for several commands whose ratios matter, run in turn (a, b, c, a, b, c, ...):
    a change in the machine's load during the run then weighs on all of them alike."""
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, cwd, env) in commands.items():
            samples[name].append(run_once(cmd, cwd, env))
    return {name: _summary(found) for name, found in samples.items()}


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    runs = len(samples)
    out: dict[str, Any] = {"runs": runs, "exit": samples[-1]["exit"]}
    for key in ("wall", "cpu", "seconds"):
        values = [s[key] for s in samples if key in s]
        if values:
            out[key] = round(statistics.median(values), 3)
    out["rss_mb"] = round(max(s["rss_mb"] for s in samples), 1)
    for key in ("pss_sum_mb", "rss_sum_mb", "processes"):
        out[key] = max(s[key] for s in samples)
    for key in ("billing_tokens", "examples", "errors"):
        if key in samples[-1]:
            out[key] = samples[-1][key]
    return out


def ensure_legacy_venv() -> str:
    """benchmarks/.venv-legacy with the legacy CLI; never touches the main environment."""
    openai_cli = os.path.join(LEGACY_VENV, "bin", "openai")
    if not os.path.exists(openai_cli):
        subprocess.run([sys.executable, "-m", "venv", LEGACY_VENV], check=True)
        pip = os.path.join(LEGACY_VENV, "bin", "pip")
        subprocess.run([pip, "install", "-q", *LEGACY_PACKAGES], check=True)
    return openai_cli


def _py(*args: str) -> list[str]:
    return [sys.executable, *args]


def _ftctl(path: str, *flags: str) -> list[str]:
    return _py("-m", "benchmarks.datasets", "_ftctl", path, *flags)


def baseline() -> tuple[str, dict[str, str]]:
    """(directory, environment) to run the code of BASELINE_COMMIT, unpacked once under
    benchmarks/.data/. Run from that directory: `python -m` puts the working directory first on
    sys.path, ahead of PYTHONPATH."""
    root = os.path.join(data.DATA_DIR, f"baseline-{BASELINE_COMMIT[:12]}")
    if not os.path.isdir(root):
        tmp = root + ".tmp"
        os.makedirs(tmp, exist_ok=True)
        archive = subprocess.run(["git", "-C", os.path.dirname(HERE), "archive", BASELINE_COMMIT,
                                  "reconciler", "schemas", "benchmarks"],
                                 check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.replace(tmp, root)
    return root, {**os.environ, "PYTHONPATH": root}


def run_all(rows: int, runs: int, legacy: bool) -> dict[str, Any]:
    small = 50_000
    files = {"chat": data.chat_file(rows), "pc": data.pc_file(rows),
             "chat_small": data.chat_file(small), "dirty_small": data.dirty_file(small),
             "pc_small": data.pc_file(small)}
    res: dict[str, Any] = {"rows": rows, "environment": _environment(), "files": {
        k: {"path": os.path.relpath(p, HERE), "bytes": os.path.getsize(p),
            "sha256": data.sha256_of(p)} for k, p in files.items()}}
    m: dict[str, Any] = {}
    chat, pc = files["chat"], files["pc"]
    root, env = baseline()
    m.update(side_by_side({
        "floor_orjson": (_py("-m", "benchmarks.datasets", "_floor", chat), None, None),
        "ftctl_structure": (_ftctl(chat, "--no-tokens"), None, None),
        "ftctl_structure_1core": (_ftctl(chat, "--no-tokens", "--jobs", "1"), None, None),
        "ftctl_cli_structure": (_py("-m", "reconciler", "data", "check", chat, "--no-tokens",
                                    "--format", "json"), None, None),
        "baseline_structure": (_ftctl(chat, "--no-tokens"), root, env),
    }, runs))
    m.update(side_by_side({
        "ftctl_tokens": (_ftctl(chat, "--model", MODEL), None, None),
        "baseline_tokens": (_ftctl(chat, "--model", MODEL), root, env),
    }, runs))
    m["ftctl_cli_tokens"] = measure(
        _py("-m", "reconciler", "data", "check", chat, "--model", MODEL, "--format", "json"), 1)
    m["cookbook_tokens"] = measure(_py("-m", "benchmarks.datasets_cookbook", chat, "o200k_base"), 1)
    m.update(side_by_side({
        "floor_orjson_pc": (_py("-m", "benchmarks.datasets", "_floor", pc), None, None),
        "ftctl_structure_pc": (_ftctl(pc, "--no-tokens"), None, None),
        "ftctl_cli_structure_pc": (_py("-m", "reconciler", "data", "check", pc, "--no-tokens",
                                       "--format", "json"), None, None),
    }, runs))
    m["ftctl_structure_small"] = measure(_ftctl(files["chat_small"], "--no-tokens"), runs)
    m["ftctl_structure_dirty_small"] = measure(_ftctl(files["dirty_small"], "--no-tokens"), runs)
    if legacy:
        cli = ensure_legacy_venv()
        # One legacy run (about a minute) between two ftctl runs of the same file: the ratio
        # compares figures taken under the same load.
        ours = _ftctl(pc, "--no-tokens")
        beside = [run_once(ours)]
        for key, path in (("legacy_prepare_data_pc", pc), ("legacy_prepare_data_pc_small",
                                                             files["pc_small"])):
            m[key] = measure([cli, "tools", "fine_tunes.prepare_data", "-f", path, "-q"], 1,
                             cwd=data.DATA_DIR, before=lambda p=path: _clean_prepared(p))
            _clean_prepared(path)
            if path == pc:
                beside.append(run_once(ours))
        m["ftctl_structure_pc_beside_legacy"] = _summary(beside)
    res["measurements"] = m
    res["ratios"] = _ratios(m, rows, small)
    res["environment"]["loadavg_after"] = os.getloadavg()
    return res


def _clean_prepared(path: str) -> None:
    stem = os.path.splitext(os.path.basename(path))[0]
    for name in os.listdir(data.DATA_DIR):
        if name.startswith(stem + "_prepared"):
            os.remove(os.path.join(data.DATA_DIR, name))


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _ratios(m: dict[str, Any], rows: int, small: int) -> dict[str, Any]:
    def g(key: str, field: str) -> Any:
        return m.get(key, {}).get(field)

    return {
        "structure_vs_floor_inner": _ratio(g("ftctl_structure", "seconds"),
                                           g("floor_orjson", "seconds")),
        "structure_1core_vs_floor_cpu": _ratio(g("ftctl_structure_1core", "cpu"),
                                               g("floor_orjson", "cpu")),
        "legacy_vs_ftctl_cli_pc_wall": _ratio(g("legacy_prepare_data_pc", "wall"),
                                              g("ftctl_cli_structure_pc", "wall")),
        "legacy_vs_ftctl_pc_wall": _ratio(g("legacy_prepare_data_pc", "wall"),
                                          g("ftctl_structure_pc_beside_legacy", "wall")),
        "legacy_vs_ftctl_pc_wall_earlier": _ratio(g("legacy_prepare_data_pc", "wall"),
                                                  g("ftctl_structure_pc", "wall")),
        "legacy_vs_ftctl_pc_cpu": _ratio(g("legacy_prepare_data_pc", "cpu"),
                                         g("ftctl_structure_pc", "cpu")),
        "cookbook_vs_ftctl_tokens_wall": _ratio(g("cookbook_tokens", "wall"),
                                                g("ftctl_tokens", "wall")),
        "cookbook_vs_ftctl_tokens_cpu": _ratio(g("cookbook_tokens", "cpu"),
                                               g("ftctl_tokens", "cpu")),
        "tokens_equal": g("cookbook_tokens", "billing_tokens") == g("ftctl_tokens",
                                                                     "billing_tokens"),
        "structure_vs_floor_cpu": _ratio(g("ftctl_structure", "cpu"), g("floor_orjson", "cpu")),
        "linearity_cpu_per_row_big_vs_small": _ratio(
            (g("ftctl_structure_1core", "cpu") or 0) / rows,
            (g("ftctl_structure_small", "cpu") or 0) / small),
        "dirty_vs_clean_small_cpu": _ratio(g("ftctl_structure_dirty_small", "cpu"),
                                           g("ftctl_structure_small", "cpu")),
        "legacy_vs_ftctl_peak_rss": _ratio(g("legacy_prepare_data_pc", "rss_mb"),
                                           g("ftctl_structure_pc", "rss_mb")),
        "structure_vs_floor_wall": _ratio(g("ftctl_structure", "wall"), g("floor_orjson", "wall")),
        # The figure: the `ftctl data check` command, timed from outside like the floor.
        "cli_structure_vs_floor_wall": _ratio(g("ftctl_cli_structure", "wall"),
                                              g("floor_orjson", "wall")),
        "cli_structure_pc_vs_floor_pc_wall": _ratio(g("ftctl_cli_structure_pc", "wall"),
                                                    g("floor_orjson_pc", "wall")),
        "cli_tokens_pss_sum_mb": g("ftctl_cli_tokens", "pss_sum_mb"),
        "legacy_vs_ftctl_chat_size_wall": _ratio(g("legacy_prepare_data_pc", "wall"),
                                                 g("ftctl_structure", "wall")),
        "tokens_pss_sum_mb": g("ftctl_tokens", "pss_sum_mb"),
        "baseline_tokens_pss_sum_mb": g("baseline_tokens", "pss_sum_mb"),
        "baseline_vs_ftctl_tokens_pss_sum": _ratio(g("baseline_tokens", "pss_sum_mb"),
                                                   g("ftctl_tokens", "pss_sum_mb")),
        "baseline_vs_ftctl_tokens_rss_sum": _ratio(g("baseline_tokens", "rss_sum_mb"),
                                                   g("ftctl_tokens", "rss_sum_mb")),
        "baseline_vs_ftctl_tokens_wall": _ratio(g("baseline_tokens", "wall"),
                                                g("ftctl_tokens", "wall")),
        "baseline_vs_ftctl_tokens_cpu": _ratio(g("baseline_tokens", "cpu"),
                                               g("ftctl_tokens", "cpu")),
        "baseline_vs_ftctl_structure_wall": _ratio(g("baseline_structure", "wall"),
                                                   g("ftctl_structure", "wall")),
    }


def _environment() -> dict[str, Any]:
    import bpe_openai
    import orjson

    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine(), "orjson": orjson.__version__,
            "bpe_openai": getattr(bpe_openai, "__version__", "0.1.4"),
            "legacy": list(LEGACY_PACKAGES), "loadavg_before": os.getloadavg()}


def markdown(res: dict[str, Any]) -> str:
    m, r = res["measurements"], res["ratios"]
    lines = [f"### Datasets benchmark ({res['rows']:,} rows; {res['environment']['cpus']} CPUs, "
             f"load {res['environment']['loadavg_before'][0]:.1f} before)", "",
             "| measurement | inner s | wall s | CPU s | peak RSS MB (largest process) | "
             "peak PSS MB (tree, summed) | peak RSS MB (tree, summed) | processes |",
             "|---|---|---|---|---|---|---|---|"]
    for key, v in m.items():
        lines.append(f"| {key} | {v.get('seconds', '')} | {v.get('wall')} | {v.get('cpu')} | "
                     f"{v.get('rss_mb')} | {v.get('pss_sum_mb', '')} | "
                     f"{v.get('rss_sum_mb', '')} | {v.get('processes', '')} |")
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r.items()]
    return "\n".join(lines)


def _floor(path: str) -> None:
    import orjson

    started = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
    print("BENCH " + json.dumps({"seconds": time.perf_counter() - started}))


def _ftctl_inner(argv: list[str]) -> None:
    from reconciler.datasets import Options, validate_file

    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--no-tokens", action="store_true")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = validate_file(args.path, args.path, Options(
        model=args.model, tokens=not args.no_tokens, jobs=args.jobs))
    print("BENCH " + json.dumps({
        "seconds": time.perf_counter() - started, "examples": report.examples,
        "billing_tokens": report.billable, "errors": sum(report.codes.values())}))


def main(argv: list[str]) -> int:
    if argv[:1] == ["_floor"]:
        _floor(argv[1])
        return 0
    if argv[:1] == ["_ftctl"]:
        _ftctl_inner(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.datasets")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-legacy", action="store_true")
    args = parser.parse_args(argv)
    res = run_all(args.rows, args.runs, not args.skip_legacy)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
