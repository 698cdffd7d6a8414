"""The desired side: project settings (ftctl.yaml), manifests, and dataset facts.

L0 core types: frozen dataclasses holding tuples, stdlib only, no I/O. `loader.py` builds these
from YAML; `datasets` fills DatasetInfo; the planner reads them as values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from reconciler.diagnostics import SourceRange

JsonScalar = str | int | float | bool | None


class MethodType(StrEnum):
    SUPERVISED = "supervised"
    DPO = "dpo"
    REINFORCEMENT = "reinforcement"


class UpdatePolicy(StrEnum):
    RETRAIN = "retrain"    # a new job from spec.model
    CONTINUE = "continue"  # a new job from the current fine-tuned model


class ProviderType(StrEnum):
    LOCAL = "local"
    OPENAI = "openai"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentRef:
    """`model: {ref: NAME}`: build on the current version of another managed model."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetRef:
    """A dataset path as written in a manifest and as resolved inside the repository.

    path: as written (relative to the manifest). repo_path: POSIX path relative to the project
    root, the key of Desired.datasets.
    """

    path: str
    repo_path: str
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Method:
    """method.type plus its hyperparameters (values are numbers or "auto")."""

    type: MethodType = MethodType.SUPERVISED
    hyperparameters: tuple[tuple[str, JsonScalar], ...] = ()
    # Reinforcement's grader, kept as canonical JSON text so the type stays hashable.
    grader_json: str | None = None

    def hyperparameter(self, key: str, default: JsonScalar = "auto") -> JsonScalar:
        return dict(self.hyperparameters).get(key, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifecycle:
    prevent_destroy: bool = False
    keep_versions: int = 1
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A gate run against a new model before older versions are retired."""

    prompt: str
    system: str | None = None
    expect_contains: str | None = None
    expect_not_contains: str | None = None
    expect_equals: str | None = None
    expect_regex: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    model: str | ParentRef
    training_file: DatasetRef
    suffix: str | None = None
    validation_file: DatasetRef | None = None
    method: Method = field(default_factory=Method)
    seed: int | None = None
    # W&B integrations as canonical JSON text (hashable, compared verbatim).
    integrations_json: str | None = None
    update: UpdatePolicy = UpdatePolicy.RETRAIN
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    checks: tuple[Check, ...] = ()
    adopt: str | None = None  # a hand-made job id to take over (like a Terraform import block)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    name: str
    spec: ModelSpec
    labels: tuple[tuple[str, str], ...] = ()
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """USD per 1M training tokens for a base model (or a prefix such as `gpt-4o-mini`)."""

    model: str
    training_per_1m: float
    input_per_1m: float | None = None
    output_per_1m: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSettings:
    type: ProviderType = ProviderType.LOCAL
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    allow_insecure_http: bool = False  # plain http to a non-loopback host only when asked
    speed: float = 200.0  # provider local only: emulator simulated seconds per real second


@dataclass(frozen=True, slots=True)
class RuleOverride:
    """One `datasets.rules` entry of ftctl.yaml: a dataset issue code and its level for this
    project (error | warning | info | off); source: where the code is written."""

    code: str
    level: str
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """ftctl.yaml. root: absolute path of the project directory (where ftctl.yaml lives)."""

    workspace: str
    root: str
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    manifests: tuple[str, ...] = ("models/**/*.yaml", "models/**/*.yml")
    prune: bool = False
    concurrency: int = 4
    prices: tuple[Price, ...] = ()
    dataset_rules: tuple[RuleOverride, ...] = ()
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """Facts about one dataset file, read by `datasets` and handed to the planner as values.

    tokens: sum over examples of min(per-example limit, tokens) — the billable tokens of one
    epoch (dataset-rules §1.5). tokens is None when the tokenizer for the model is unknown.
    """

    repo_path: str
    sha256: str
    bytes: int
    examples: int
    tokens: int | None = None
    format: str | None = None  # chat | prompt_completion | dpo | reinforcement | mixed
    has_errors: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Desired:
    """Everything loaded from disk: settings, manifests sorted by name, dataset facts by path."""

    settings: Settings
    manifests: tuple[Manifest, ...]
    datasets: Mapping[str, DatasetInfo] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Index by name, built once: lookups happen per manifest, which made loading quadratic.
    _by_name: Mapping[str, Manifest] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {m.name: m for m in reversed(self.manifests)}  # the first of a duplicate wins
        object.__setattr__(self, "_by_name", MappingProxyType(index))

    def manifest(self, name: str) -> Manifest | None:
        return self._by_name.get(name)
