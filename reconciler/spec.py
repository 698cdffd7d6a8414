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
    AZURE = "azure"


class Dialect(StrEnum):
    """Whose API a provider speaks: the local emulator can speak either."""

    OPENAI = "openai"
    AZURE = "azure"


class DeploymentSku(StrEnum):
    """Azure deployment types a fine-tuned model can be deployed with."""

    GLOBAL_STANDARD = "GlobalStandard"
    STANDARD = "Standard"
    DEVELOPER_TIER = "DeveloperTier"
    PROVISIONED_MANAGED = "ProvisionedManaged"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentRef:
    """`model: {ref: NAME}`: build on the serving version of another managed model."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetRef:
    """A dataset path as written in a manifest and as resolved inside the repository.

    path: as written (relative to the manifest). repo_path: POSIX path relative to the project
    root, the key of Desired.datasets. usable: the loader's path checks passed (relative,
    inside the project, an existing file); a refused path is already reported and never read.
    """

    path: str
    repo_path: str
    source: SourceRange | None = None
    usable: bool = True


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
    # Where prevent_destroy is written, for the error of a plan it blocks; not part of the value.
    source: SourceRange | None = field(default=None, compare=False)


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


class GraderType(StrEnum):
    """The built-in graders of `spec.evaluation` (each scores one answer in [0, 1])."""

    EXACT_MATCH = "exact_match"
    NORMALIZED_MATCH = "normalized_match"
    CONTAINS = "contains"
    REGEX = "regex"
    JSON_SCHEMA = "json_schema"
    NUMERIC = "numeric"
    SIMILARITY = "similarity"


@dataclass(frozen=True, slots=True, kw_only=True)
class Grader:
    """One grader of an evaluation. pattern: regex only (default: the expected answer is the
    pattern); schema_json: json_schema only, canonical JSON text; tolerance: numeric only."""

    name: str
    type: GraderType
    pattern: str | None = None
    schema_json: str | None = None
    tolerance: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Promotion:
    """When a candidate may replace the serving version: every `minimum` met (absolute), and
    no grader more than `max_regression` below the serving version's score."""

    minimum: tuple[tuple[str, float], ...] = ()
    max_regression: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """`spec.evaluation`: an eval set (chat prompts with an expected answer), graders, and the
    promotion rule applied to a newly trained version against the serving one."""

    dataset: DatasetRef
    graders: tuple[Grader, ...]
    promote: Promotion = field(default_factory=Promotion)
    # sha256 of the eval set's bytes ("" when unreadable): part of the verdict identity, so a
    # changed eval set verifies the serving version again.
    dataset_sha256: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """`spec.deployment`: where a provider with deployments (Azure) serves the model.

    name: the deployment's name (defaults to metadata.name), what inference addresses.
    """

    name: str
    sku: DeploymentSku = DeploymentSku.STANDARD
    capacity: int = 1
    source: SourceRange | None = field(default=None, compare=False)


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
    evaluation: Evaluation | None = None
    deployment: Deployment | None = None  # used only by providers with deployments (Azure)
    # where `model:` is written, for diagnostics; not part of what the spec is
    model_source: SourceRange | None = field(default=None, compare=False)

    @property
    def gated(self) -> bool:
        """Whether a new version must pass a gate (checks, evaluation) before older versions
        are retired."""
        return bool(self.checks) or self.evaluation is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    name: str
    spec: ModelSpec
    labels: tuple[tuple[str, str], ...] = ()
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """USD per 1M training tokens for a base model (or a prefix such as `gpt-4o-mini`), and
    optionally per 1M inference tokens and per hour of hosting a fine-tuned deployment (Azure)."""

    model: str
    training_per_1m: float
    input_per_1m: float | None = None
    output_per_1m: float | None = None
    hosting_per_hour: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSettings:
    type: ProviderType = ProviderType.LOCAL
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    allow_insecure_http: bool = False  # plain http to a non-loopback host only when asked
    speed: float = 200.0  # provider local only: emulator simulated seconds per real second
    dialect: Dialect = Dialect.OPENAI  # provider local only: the emulator's dialect
    azure: AzureSettings | None = None  # provider azure only
    # Azure dialects only (azure, or local with dialect azure): sent as `trainingType` on
    # every job the project creates; None leaves Azure's default.
    training_type: str | None = None

    @property
    def speaks_azure(self) -> bool:
        """Whether the provider speaks Azure OpenAI (and so has deployments)."""
        return self.type == ProviderType.AZURE or (
            self.type == ProviderType.LOCAL and self.dialect == Dialect.AZURE)


DEFAULT_MANAGEMENT_ENDPOINT = "https://management.azure.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSettings:
    """`provider:` of type azure: the resource's data plane and its place in ARM."""

    endpoint: str
    subscription_id: str
    resource_group: str
    account: str
    management_endpoint: str = DEFAULT_MANAGEMENT_ENDPOINT


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
    # Azure only: apply deletes ftctl's own dataset uploads nothing needs (the copies in git
    # stay); they count against the resource's file limits.
    delete_unneeded_files: bool = True
    concurrency: int = 4
    prices: tuple[Price, ...] = ()
    dataset_rules: tuple[RuleOverride, ...] = ()
    source: SourceRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """Facts about one dataset file, read by `datasets` and handed to the planner as values.

    tokens: sum over examples of min(per-example limit, tokens) — the billable tokens of one
    epoch. tokens is None when the tokenizer for the model is unknown.
    """

    repo_path: str
    sha256: str
    bytes: int
    examples: int
    tokens: int | None = None
    format: str | None = None  # chat | prompt_completion | dpo | reinforcement | mixed
    has_errors: bool = False
    # (base model, tokens) for every base model a manifest trains on this file with.
    tokens_by_model: tuple[tuple[str, int | None], ...] = ()

    def tokens_for(self, model: str) -> int | None:
        """Billable tokens of one epoch for `model` (`tokens` when it was not counted apart)."""
        return next((t for m, t in self.tokens_by_model if m == model), self.tokens)


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
