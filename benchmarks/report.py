"""benchmarks/RESULTS.md from benchmarks/results/*.json: one section per benchmark, each with
the ratio against the baseline measured in the same run, plus the profile-guided pass.

Pure formatting: reads JSON, returns Markdown; a missing or broken result is said so, never
fatal, so one failed benchmark does not hide the others' figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def _load(results: Path, name: str) -> dict[str, Any] | None:
    try:
        data = json.loads((results / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _status(runs: dict[str, Any], name: str) -> str:
    run = runs.get(name)
    if not run:
        return "_not run by `python -m benchmarks` (figures from an earlier separate run)_"
    mode = "quick" if run.get("quick") else "full"
    args = " ".join(run.get("args") or []) or "defaults"
    return (f"_{mode} mode ({args}); exit {run.get('exit')}; {run.get('seconds')} s; finished "
            f"{run.get('finished')}; load average {run.get('load_after')} after_")


def _emulator(d: dict[str, Any]) -> str:
    from benchmarks.emulator import table

    return table(d["listing"], d["upload"], d.get("pages"))


def _datasets(d: dict[str, Any]) -> str:
    from benchmarks.datasets import markdown

    r = d.get("ratios", {})
    head = [
        "| claim | ratio measured | target |", "|---|---|---|",
        f"| with tokens: peak PSS summed over the process tree | "
        f"{r.get('tokens_pss_sum_mb')} MB (before issue 14, same run: "
        f"{r.get('baseline_tokens_pss_sum_mb')} MB; {r.get('baseline_vs_ftctl_tokens_pss_sum')}x "
        f"less) | under 150 MB |",
        f"| with tokens, `ftctl data check` command: peak PSS summed | "
        f"{r.get('cli_tokens_pss_sum_mb')} MB | under 150 MB |",
        f"| with tokens: wall, before issue 14 vs now | "
        f"{r.get('baseline_vs_ftctl_tokens_wall')}x (CPU "
        f"{r.get('baseline_vs_ftctl_tokens_cpu')}x) | at least 1x (no slower) |",
        f"| structure-only `ftctl data check` command vs orjson floor, both timed from outside "
        f"(wall; the issue's figure) | {r.get('cli_structure_vs_floor_wall')}x (p/c file "
        f"{r.get('cli_structure_pc_vs_floor_pc_wall')}x) | at most 2x |",
        f"| structure-only validation (in-process harness) vs orjson floor (wall) | "
        f"{r.get('structure_vs_floor_wall')}x | at most 2x |",
        f"| structure-only vs orjson floor (CPU) | {r.get('structure_vs_floor_cpu')}x | - |",
        f"| legacy prepare_data vs ftctl (wall, same-size p/c file; ftctl timed just before "
        f"and after the legacy run) | {r.get('legacy_vs_ftctl_pc_wall')}x | at least 25x |",
        f"| cookbook vs ftctl with tokens (wall) | {r.get('cookbook_vs_ftctl_tokens_wall')}x | "
        "at least 1.5x |",
        f"| token totals equal to the cookbook's | {r.get('tokens_equal')} | True |",
        f"| legacy vs ftctl peak RSS | {r.get('legacy_vs_ftctl_peak_rss')}x | "
        "ftctl under 150 MB |",
        f"| CPU per row, big vs 50k (linearity) | "
        f"{r.get('linearity_cpu_per_row_big_vs_small')} | about 1 |",
    ]
    return "\n".join(head) + "\n\n" + markdown(d).split("\n", 2)[2]


def _plan(d: dict[str, Any]) -> str:
    from benchmarks.plan import markdown

    s = d["seeded"]
    return (markdown(d) + f"\n\nRequests grow with pages: {d['cold']['requests']} requests for "
            f"{d['pages']} pages of {s['jobs']:,} jobs (100 per page), {s['files']:,} files "
            f"(10,000 per page) and one model list; within pages: "
            f"{d['requests_within_pages']}. Seeding the emulator took {s['seed_s']} s.")


def _apply(d: dict[str, Any]) -> str:
    from benchmarks.apply import markdown

    return markdown(d)


def _apply_ratelimit(d: dict[str, Any]) -> str:
    return "\n".join([
        "| measurement | value | bound | ratio |", "|---|---|---|---|",
        f"| apply {d['models']} new models behind {d['rate_per_s']:g} req/s (burst "
        f"{d['burst']}) | {d['seconds']} s, {d['failed_steps']} failed, "
        f"{d['rate_limited_429']} answers were 429 | {d['rate_bound_seconds']} s "
        f"(requests needed / rate) | {d['ratio_to_bound']}x |",
        f"| requests per model (served) | {d['requests_per_model']} | - | - |"])


def _apply_upload(d: dict[str, Any]) -> str:
    return "\n".join([
        "| measurement | value | baseline | ratio |", "|---|---|---|---|",
        f"| client peak RSS, {d['mb']} MB upload via RemoteApi.upload_file | "
        f"{d['client_peak_mb']} MB ({d['upload_seconds']} s) | {d['baseline_peak_mb']} MB "
        f"(child that only imports ftctl) | +{d['client_peak_mb'] - d['baseline_peak_mb']:.1f}"
        f" MB; {'under' if d['ok'] else 'OVER'} the {d['limit_mb']:g} MB limit |"])


def _scaling(d: dict[str, Any]) -> str:
    from benchmarks.scaling import markdown

    images = "\n\n".join(f"![{p}]({p})" for p in d.get("plots", []))
    return markdown(d) + ("\n\n" + images if images else "")


def _profile(d: dict[str, Any]) -> str:
    lines = [d.get("summary", ""), "", "| measurement | before | after | speed-up |",
             "|---|---|---|---|"]
    for row in d.get("rows", []):
        ratio = row["before"] / row["after"] if row.get("after") else None
        lines.append(f"| {row['what']} | {row['before']} s | {row['after']} s | "
                     f"{f'{ratio:.0f}x' if ratio else '-'} |")
    lines += ["", *d.get("notes", [])]
    return "\n".join(lines)


SECTIONS: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
    ("plan", "Plan: no-change plan at scale (issue 5)", _plan),
    ("apply", "Apply under the active-jobs limit (issue 6)", _apply),
    ("apply_ratelimit", "Apply under a request-rate limit (issue 6)", _apply_ratelimit),
    ("apply_upload", "1 GB upload: client memory (issue 6)", _apply_upload),
    ("emulator", "Emulator: filtered listing, server memory on upload, and the refresh's pages "
     "against an earlier commit (issues 3, 18)", _emulator),
    ("datasets", "Dataset validation (issue 4)", _datasets),
    ("scaling", "Scaling curves (issue 8)", _scaling),
    ("profile", "Profile-guided pass (issue 8)", _profile),
)


def _goals(results: Path, runs: dict[str, Any]) -> list[str]:
    """The plan-at-scale goals (issue 18), from the plan and scaling results of one run."""
    plan, scaling = _load(results, "plan") or {}, _load(results, "scaling") or {}
    against = plan.get("versus")
    if not against:
        return []
    from benchmarks.scaling import linearity

    linear = linearity(scaling.get("plan", []))
    finished = {name: (runs.get(name) or {}).get("finished", "?") for name in ("plan", "scaling")}
    return [
        "## Plan at scale: the goals (issue 18)", "",
        f"Ratios measured side by side (plan benchmark finished {finished['plan']}, scaling "
        f"{finished['scaling']}); the earlier code is commit `{against['commit']}`.", "",
        "| goal | measured | target |", "|---|---|---|",
        f"| no-change plan, {plan['seeded']['manifests']:,} manifests vs "
        f"{plan['seeded']['jobs']:,} jobs, warm: `{against['commit']}` / now | "
        f"{against['plan_speedup']:.2f}x faster | at least 3x |",
        f"| `ftctl validate`, {plan['seeded']['manifests']:,} manifests: "
        f"`{against['commit']}` / now | {against['validate_speedup']:.2f}x faster | "
        "at least 4x |",
        f"| time per manifest at 10,000 / at 1,000 (warm plan) | "
        f"{f'{linear:.2f}x' if linear is not None else 'not measured'} | at most 1.25x |",
        f"| requests for the refresh at {plan['seeded']['manifests']:,} manifests | "
        f"{plan['cold']['requests']} ({plan['pages']} pages) | one per page |", "",
    ]


def render(results: Path, runs: dict[str, Any]) -> str:
    machine = runs.get("_machine", {})
    out = ["# Benchmark results", "",
           "Written by `python -m benchmarks` from `benchmarks/results/*.json`; every ratio "
           "compares with a baseline measured in the same run on the same machine "
           f"({machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}). The "
           "machine is shared with other work: load averages are given per benchmark, and "
           "absolute times are noisy. How to run and what each measures: README.md.", ""]
    out += _goals(results, runs)
    for name, title, fmt in SECTIONS:
        out += [f"## {title}", ""]
        if name != "profile":
            out += [_status(runs, name), ""]
        data = _load(results, name)
        if data is None:
            out += ["_no results: the benchmark has not produced results/"
                    f"{name}.json yet, or it failed_", ""]
            continue
        try:
            out += [fmt(data), ""]
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            out += [f"_results/{name}.json could not be read ({type(exc).__name__}: {exc})_", ""]
    return "\n".join(out)
