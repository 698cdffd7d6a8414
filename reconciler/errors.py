"""The exception tree for aborts. User mistakes are Diagnostics, not exceptions.

    FtctlError                      anything ftctl reports and exits 1 for
    ├── ConfigError                 settings cannot be used at all (no ftctl.yaml, bad flag combo)
    ├── StalePlanError              a saved plan no longer matches the remote
    └── ApiError                    the provider answered with an error (status, request id)
        ├── RetryableApiError       408, 409, 429, 5xx, connection errors: retried with backoff
        └── PermanentApiError       400, 401, 403, 404, other 4xx and a 409 whose code says the
            │                       resource's state forbids it: never retried
            └── PlatformClosedError creation refused because fine-tuning is closed to the org

The retry decision lives in the type. httpx exceptions never leave `reconciler.client`.
Exception texts never contain the API key.
"""

from __future__ import annotations


class FtctlError(Exception):
    """Base of every error ftctl reports to the user and exits 1 for."""


class ConfigError(FtctlError):
    """The project's settings or command-line options cannot be used."""


class StalePlanError(FtctlError):
    """A saved plan was made from a remote state that has since changed."""


class ApiError(FtctlError):
    """The provider answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status}")
            parts[-1] += f", request {self.request_id})" if self.request_id else ")"
        return " ".join(parts)


class RetryableApiError(ApiError):
    """A transient failure: 408, 409, 429, 5xx or a connection problem."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class PermanentApiError(ApiError):
    """A request the provider will never accept as sent: 400, 401, 403, 404, ..."""


class PlatformClosedError(PermanentApiError):
    """Job creation refused because fine-tuning is closed to this organization."""


class Stopped(ApiError):
    """A request not sent (or not retried) because its client was stopped: its answer is no
    longer wanted (a refresh started beside manifests that turned out invalid)."""
