"""Summary numbers of a validated dataset for `ftctl data stats`: examples, tokens
(total, min, median, max), default epochs, charged tokens, estimated cost and a histogram of
example lengths. Pure: a Report in, values and text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.datasets.validate import Report
from reconciler.estimate import HOURS_PER_MONTH, estimate, monthly_hosting
from reconciler.spec import DatasetInfo, Price


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    file: str
    format: str | None
    examples: int
    encoding: str | None
    tokens_total: int | None = None
    billable: int | None = None
    tokens_min: int | None = None
    tokens_median: float | None = None
    tokens_max: int | None = None
    epochs: int | None = None
    charged_tokens: int | None = None
    cost_usd: float | None = None
    hosting_usd_month: float | None = None  # one deployment of the result, where it bills hourly
    histogram: tuple[tuple[int, int, int], ...] = ()  # (low, high, examples), high exclusive

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {k: getattr(self, k) for k in self.__slots__}
        out["histogram"] = [{"low": lo, "high": hi, "examples": n} for lo, hi, n in self.histogram]
        return out


def summarize(report: Report, *, model: str, n_epochs: object, prices: tuple[Price, ...]) -> Stats:
    counts = sorted(report.token_counts) if report.token_counts is not None else []
    info = DatasetInfo(repo_path=report.file, sha256="", bytes=report.bytes,
                       examples=report.examples, tokens=report.billable)
    est = estimate(info, n_epochs=n_epochs, model=model, prices=prices)
    base = Stats(file=report.file, format=report.format, examples=report.examples,
                 encoding=report.encoding, epochs=est.epochs, billable=report.billable,
                 charged_tokens=est.training_tokens, cost_usd=est.cost_usd,
                 hosting_usd_month=monthly_hosting(model, prices))
    if not counts:
        return base
    return Stats(
        **{k: getattr(base, k) for k in ("file", "format", "examples", "encoding", "epochs",
                                          "billable", "charged_tokens", "cost_usd",
                                          "hosting_usd_month")},
        tokens_total=sum(counts), tokens_min=counts[0], tokens_max=counts[-1],
        tokens_median=_median(counts), histogram=histogram(counts),
    )


def _median(sorted_counts: list[int]) -> float:
    n = len(sorted_counts)
    mid = n // 2
    if n % 2:
        return float(sorted_counts[mid])
    return (sorted_counts[mid - 1] + sorted_counts[mid]) / 2


def histogram(sorted_counts: list[int], bins: int = 10) -> tuple[tuple[int, int, int], ...]:
    """Equal-width bins from the smallest to the largest count."""
    lo, hi = sorted_counts[0], sorted_counts[-1]
    width = max(1, -(-(hi - lo + 1) // bins))
    table = [0] * bins
    for n in sorted_counts:
        table[min((n - lo) // width, bins - 1)] += 1
    edges = [(lo + i * width, lo + (i + 1) * width, table[i]) for i in range(bins)]
    while edges and edges[-1][2] == 0:
        edges.pop()
    return tuple(edges)


def format_text(stats: Stats, *, model: str) -> str:
    """Human-readable stats (every token figure is approximate)."""
    lines = [f"{stats.file}: {stats.examples} examples ({stats.format or 'unknown format'})"]
    if stats.tokens_total is None:
        lines.append(f"  tokens: unknown (no tokenizer for {model})")
    else:
        lines += [
            f"  tokens (~, {stats.encoding}): total {stats.tokens_total:,}, "
            f"min {stats.tokens_min:,}, median {stats.tokens_median:,.0f}, "
            f"max {stats.tokens_max:,}",
            f"  billed per epoch: ~{stats.billable:,} tokens",
            f"  epochs: {stats.epochs}",
            f"  charged: ~{stats.charged_tokens:,} tokens",
            f"  estimated cost: ${_money(stats.cost_usd)}" if stats.cost_usd is not None
            else f"  estimated cost: unknown (no price for {model} in ftctl.yaml)",
        ]
    if stats.hosting_usd_month is not None:
        lines.append(f"  hosting one deployment: ~${_money(stats.hosting_usd_month)}/month "
                     f"({HOURS_PER_MONTH} h, used or not)")
    if stats.histogram:
        lines.append("  example length (tokens):")
        peak = max(n for _, _, n in stats.histogram) or 1
        for lo, hi, n in stats.histogram:
            bar = "#" * max(1 if n else 0, round(30 * n / peak))
            lines.append(f"    {lo:>8,}-{hi - 1:<8,} {n:>9,} {bar}")
    return "\n".join(lines)


def _money(usd: float) -> str:
    """Cents for real amounts; enough digits that a tiny estimate is not shown as $0.00."""
    return f"{usd:,.2f}" if usd >= 0.01 or usd == 0 else f"{usd:.6f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Costing:
    """Tokens and estimated cost of one checked file (`data check`), and where its base model
    came from: `--model`, the manifest that uses the file, or the default tokenizer."""

    model: str | None
    source: str
    stats: Stats
    in_project: bool

    def summary(self) -> str:
        s = self.stats
        if s.billable is None:
            return "tokens not counted"
        return (f"~{s.billable:,} tokens ({s.encoding}, {self._model_text()}), "
                f"{s.epochs} epoch(s), ~{s.charged_tokens or 0:,} charged, {self._cost_text()}")

    def _model_text(self) -> str:
        return f"{self.model}: {self.source}" if self.model else self.source

    def _cost_text(self) -> str:
        if self.stats.cost_usd is not None:
            return f"est. ${_money(self.stats.cost_usd)}"
        if not self.model:
            return "cost unknown (no base model)"
        if not self.in_project:
            return "cost unknown (prices come from ftctl.yaml)"
        return f"cost unknown (no price for {self.model} in ftctl.yaml)"

    def to_json(self) -> dict[str, object]:
        s = self.stats
        return {"model": self.model, "model_source": self.source, "epochs": s.epochs,
                "charged_tokens": s.charged_tokens, "cost_usd": s.cost_usd}
