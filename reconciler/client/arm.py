"""ArmClient: Azure OpenAI deployments through Azure Resource Manager (the control plane).

`PUT`/`GET`/`DELETE .../accounts/{account}/deployments/{name}` and the list, under
`management_endpoint`, with a bearer token (azure_auth). Requests go through HttpClient, the
one retry layer; this module only *waits*: a PUT or DELETE that starts a long-running
operation (201/202, or 200 with a state still in progress) is followed through its
`Azure-AsyncOperation` status URL (or its `Location` result URL, or the deployment's own
`provisioningState`), sleeping as `Retry-After` says, until it ends. Operation URLs must point
at the management endpoint's own host: the token is never sent anywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.client.http import HttpClient, Reply, parse_retry_after
from reconciler.errors import PermanentApiError
from reconciler.snapshot import RemoteDeployment

ARM_API_VERSION = "2024-10-01"  # GA; deployments of fine-tuned models and DeveloperTier work
IN_PROGRESS = frozenset({"Accepted", "Creating", "Deleting", "Moving", "Updating",
                         "InProgress", "Running"})
DEFAULT_POLL = 5.0  # seconds between looks when the server gives no Retry-After
MAX_POLL = 60.0
DEFAULT_TIMEOUT = 3600.0  # a deployment usually provisions in minutes


def parse_deployment(raw: Mapping[str, Any]) -> RemoteDeployment:
    props = _obj(raw.get("properties"))
    model, sku = _obj(props.get("model")), _obj(raw.get("sku"))
    capacity = sku.get("capacity")
    return RemoteDeployment(
        name=str(raw.get("name") or ""),
        model=str(model.get("name") or ""),
        model_version=str(model["version"]) if model.get("version") is not None else None,
        sku=str(sku.get("name") or ""),
        capacity=capacity if isinstance(capacity, int) else None,
        provisioning_state=str(props.get("provisioningState") or "Succeeded"),
    )


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class ArmClient:
    """The deployments of one Azure OpenAI account."""

    def __init__(
        self,
        http: HttpClient,
        *,
        subscription_id: str,
        resource_group: str,
        account: str,
        api_version: str = ARM_API_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.http = http
        self.account_path = (
            f"subscriptions/{quote(subscription_id, safe='')}/resourceGroups/"
            f"{quote(resource_group, safe='')}/providers/Microsoft.CognitiveServices/"
            f"accounts/{quote(account, safe='')}")
        self._params = {"api-version": api_version}
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        base = urlsplit(http.base_url)
        self._origin = (base.scheme, base.netloc)

    def __repr__(self) -> str:
        return f"ArmClient({self.http!r})"

    def close(self) -> None:
        self.http.close()

    def _path(self, name: str) -> str:
        return f"{self.account_path}/deployments/{quote(name, safe='')}"

    # -- reads ---------------------------------------------------------------------------------

    def get_deployment(self, name: str) -> RemoteDeployment | None:
        """The deployment, or None when there is none by that name."""
        try:
            return parse_deployment(self.http.request("GET", self._path(name),
                                                      params=self._params))
        except PermanentApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list_deployments(self) -> list[RemoteDeployment]:
        return [parse_deployment(item) for item in self._pages()]

    def _pages(self) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.account_path}/deployments"
        params: Mapping[str, str] | None = self._params
        while url:
            page = self.http.request("GET", url, params=params)
            yield from (v for v in page.get("value") or [] if isinstance(v, dict))
            next_link = page.get("nextLink")
            url = self._same_host(next_link) if isinstance(next_link, str) else None
            params = None  # a nextLink carries its own query

    # -- writes --------------------------------------------------------------------------------

    def put_deployment(self, name: str, *, model: str, sku: str, capacity: int,
                       model_version: str = "1", wait: bool = True) -> RemoteDeployment:
        """Create or change a deployment (PUT is idempotent); by default wait until it serves."""
        body = {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model,
                                     "version": model_version}},
        }
        reply = self.http.reply("PUT", self._path(name), params=self._params, json=body)
        deployment = parse_deployment(reply.body)
        if not wait or (reply.status == 200 and deployment.ready):
            return deployment
        self._follow(reply, name)
        final = self.get_deployment(name)
        if final is None or not final.ready:
            state = final.provisioning_state if final else "gone"
            raise PermanentApiError(f"deployment {name} ended {state}, not Succeeded")
        return final

    def delete_deployment(self, name: str, *, wait: bool = True) -> None:
        """Delete a deployment (204: there was none); by default wait until it is gone."""
        reply = self.http.reply("DELETE", self._path(name), params=self._params)
        if reply.status == 204 or not wait:
            return
        self._follow(reply, name)

    # -- long-running operations ---------------------------------------------------------------

    def _follow(self, reply: Reply, name: str) -> None:
        """Wait for the operation `reply` started: its status URL, result URL, or the state."""
        deadline = self._clock() + self._timeout
        status_url = reply.headers.get("azure-asyncoperation")
        result_url = reply.headers.get("location")
        delay = _delay(reply.headers)
        while True:
            if self._clock() >= deadline:
                raise PermanentApiError(
                    f"deployment {name}: the operation did not finish within "
                    f"{self._timeout:.0f} s")
            self._sleep(delay)
            if status_url:
                poll = self.http.reply("GET", self._same_host(status_url))
                state = str(poll.body.get("status") or "InProgress")
            elif result_url:
                poll = self.http.reply("GET", self._same_host(result_url))
                state = "InProgress" if poll.status == 202 else "Succeeded"
            else:
                found = self.get_deployment(name)
                poll = None
                state = found.provisioning_state if found is not None else "Succeeded"
            if state not in IN_PROGRESS:
                if state in ("Failed", "Canceled", "Cancelled"):
                    raise PermanentApiError(f"deployment {name}: the operation ended {state}")
                return
            delay = _delay(poll.headers) if poll is not None else DEFAULT_POLL

    def _same_host(self, url: str) -> str:
        """An operation or page URL from the server, refused unless on the management host."""
        parts = urlsplit(url)
        if parts.scheme and (parts.scheme, parts.netloc) != self._origin:
            raise PermanentApiError(
                f"ARM answered with an operation URL on another host ({parts.netloc}); "
                "not following it with the access token")
        return url


def _delay(headers: Mapping[str, str]) -> float:
    after = parse_retry_after(headers)
    return DEFAULT_POLL if after is None else min(max(after, 0.0), MAX_POLL)
