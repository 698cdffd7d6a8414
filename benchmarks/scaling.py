"""Scaling curves: `python -m benchmarks.scaling [--quick]`.

- plan time vs manifests (100 / 1,000 / 5,000 / 10,000): a no-change plan, cold and warm
  dataset cache (median of 3 pairs; 1 under --quick),
  against the emulator on loopback holding one current job and one file per manifest (the
  plan benchmark's setup with history 1), plus the HTTP requests each plan made, and the
  time per manifest at 10,000 against 1,000 (linear: about 1);
- dataset validation (structure-only, `validate_file`, as `ftctl data check --no-tokens`)
  time and peak memory vs rows (50k / 500k / 2M; 2M only without --quick), each run in its
  own process under GNU time like the datasets benchmark.
Writes benchmarks/results/scaling.json and PNG plots in benchmarks/plots/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks import datasets as dbench
from benchmarks import datasets_data as data
from benchmarks import plan as plan_bench

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scaling.json"
PLOTS = HERE / "plots"
MANIFESTS = (100, 1_000, 5_000, 10_000)
ROWS_QUICK = (50_000, 500_000)
ROWS_FULL = (50_000, 500_000, 2_000_000)


def plan_curve(sizes: tuple[int, ...], runs: int) -> list[dict[str, Any]]:
    points = []
    for n in sizes:
        res = plan_bench.run(n, 1, n, naive=False, runs=runs)
        points.append({"manifests": n, "cold_s": res["cold"]["wall_s"],
                       "warm_s": res["warm"]["wall_s"], "requests": res["cold"]["requests"],
                       "pages": res["pages"], "seed_s": res["seeded"]["seed_s"]})
        print(f"plan {n}: {points[-1]}", flush=True)
    return points


def validation_curve(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    points = []
    for rows in sizes:
        path = data.chat_file(rows)
        m = dbench.measure(dbench._ftctl(path, "--no-tokens"), 1)
        points.append({"rows": rows, "wall_s": m["wall"], "cpu_s": m["cpu"],
                       "inner_s": m.get("seconds"), "peak_rss_mb": m["rss_mb"],
                       "examples": m.get("examples"), "errors": m.get("errors")})
        print(f"validate {rows}: {points[-1]}", flush=True)
    return points


def plot(res: dict[str, Any], out: Path = PLOTS) -> list[str]:
    """Two small PNGs; returns their paths relative to benchmarks/."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if res.get("plan"):
        pts = res["plan"]
        fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
        xs = [p["manifests"] for p in pts]
        ax.plot(xs, [p["cold_s"] for p in pts], "o-", label="cold dataset cache")
        ax.plot(xs, [p["warm_s"] for p in pts], "s--", label="warm hash cache")
        ends = (xs[0], xs[-1])
        per = min(p["warm_s"] / p["manifests"] for p in pts)
        ax.plot(ends, [per * x for x in ends], ":", color="grey", label="linear")
        ax.set(xscale="log", yscale="log", xlabel="manifests", ylabel="no-change plan, s",
               title="ftctl plan time vs manifests")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "plan_scaling.png")
        plt.close(fig)
        written.append("plots/plan_scaling.png")
    if res.get("validation"):
        pts = res["validation"]
        fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
        xs = [p["rows"] for p in pts]
        ax.plot(xs, [p["wall_s"] for p in pts], "o-", color="tab:blue", label="wall time")
        ax.set(xscale="log", yscale="log", xlabel="rows", ylabel="seconds",
               title="structure-only validation vs rows")
        ax.xaxis.set_minor_formatter(NullFormatter())  # crowded labels between 10^5 and 10^6
        ax.grid(True, which="both", alpha=0.3)
        mem = ax.twinx()
        mem.plot(xs, [p["peak_rss_mb"] for p in pts], "s--", color="tab:red",
                 label="peak RSS (MB)")
        mem.set_ylabel("peak RSS, MB")
        mem.set_ylim(bottom=0)
        fig.legend(loc="upper left", bbox_to_anchor=(0.15, 0.85))
        fig.tight_layout()
        fig.savefig(out / "validation_scaling.png")
        plt.close(fig)
        written.append("plots/validation_scaling.png")
    return written


def linearity(points: list[dict[str, Any]], small: int = 1_000,
              big: int = 10_000) -> float | None:
    """Warm plan time per manifest at `big` over that at `small` (1.0 is perfectly linear)."""
    per = {p["manifests"]: p["warm_s"] / p["manifests"] for p in points}
    return round(per[big] / per[small], 2) if small in per and big in per else None


def markdown(res: dict[str, Any]) -> str:
    lines = ["| manifests | plan cold s | plan warm s | warm ms per manifest | requests | pages |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {p['manifests']:,} | {p['cold_s']:.2f} | {p['warm_s']:.2f} | "
              f"{p['warm_s'] / p['manifests'] * 1000:.2f} | {p['requests']} | {p['pages']} |"
              for p in res.get("plan", [])]
    ratio = linearity(res.get("plan", []))
    if ratio is not None:
        lines += ["", f"Time per manifest at 10,000 manifests / at 1,000 (warm, same run): "
                      f"**{ratio:.2f}x** (goal: at most 1.25x)."]
    lines += ["", "| rows | wall s | CPU s | peak RSS MB | per-row us (wall) |",
              "|---|---|---|---|---|"]
    lines += [f"| {p['rows']:,} | {p['wall_s']} | {p['cpu_s']} | {p['peak_rss_mb']} | "
              f"{p['wall_s'] / p['rows'] * 1e6:.1f} |" for p in res.get("validation", [])]
    return "\n".join(lines)


def run(quick: bool) -> dict[str, Any]:
    return {"plan": plan_curve(MANIFESTS, 1 if quick else 3),
            "validation": validation_curve(ROWS_QUICK if quick else ROWS_FULL)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling")
    parser.add_argument("--quick", action="store_true", help="skip the 2M-row point")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    res = run(args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")  # kept even if plotting fails
    res["plots"] = plot(res)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
