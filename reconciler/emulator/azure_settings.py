"""Settings of the emulator's Azure dialect: the emulated resource, its credentials, its
per-resource limits and the `--no-metadata` switch. Plain values, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GB = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AzureLimits:
    """Per-resource quotas Azure OpenAI documents for fine-tuning (configurable for tests)."""

    fine_tuned_deployments: int = 10
    files: int = 100  # fine-tune files kept on the resource
    file_bytes: int = 1 * GB  # total size of those files
    training_jobs: int = 100  # jobs on the resource, whatever their status


@dataclass(frozen=True, slots=True)
class AzureSettings:
    """The one Azure OpenAI resource the dialect emulates.

    `access_token` is the bearer token the control plane (ARM) requires, and that the data
    plane accepts as an Entra ID token beside the API key. `subscription`, `resource_group`
    and `account` pin the ARM path segments when set; None accepts any value (the standalone
    server then answers for whatever resource the client names).
    """

    access_token: str = "azure-local-token"
    subscription: str | None = None
    resource_group: str | None = None
    account: str | None = None
    location: str = "swedencentral"
    keep_metadata: bool = True  # False: job `metadata` is dropped, as a service that ignores it
    limits: AzureLimits = field(default_factory=AzureLimits)
