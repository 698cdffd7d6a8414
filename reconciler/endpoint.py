"""The rule for a provider's base URL, in one place: `validate` reports it at its line in
ftctl.yaml, and the client refuses the same URLs (also from OPENAI_BASE_URL) before sending
anything.

A usable base URL is http(s) with a host; plain http only to a loopback host (the API key
would otherwise travel unencrypted) unless `provider.allow_insecure_http` says so.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

EXAMPLE_URL = "https://api.openai.com/v1"


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def display_url(url: str) -> str:
    """The URL as messages may show it: any user:password@ part removed."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def base_url_problem(base_url: str, *, allow_insecure_http: bool,
                     example: str = EXAMPLE_URL, what: str = "base URL") -> str | None:
    """Why `base_url` cannot be used, in plain words; None when it can. `what` names the URL
    in the message and `example` shows a good one (the Azure endpoints use their own)."""
    shown = display_url(base_url)
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced [ in the host
        return f"{what} {shown!r} is not a valid URL; write it such as {example}"
    if parts.scheme not in ("http", "https"):
        if "://" not in base_url:
            return (f"{what} {shown!r} has no scheme; write it with https://, such as "
                    f"https://{base_url.lstrip('/')}")
        return f"{what} {shown!r} is not an http(s) URL; write it such as {example}"
    if not host or any(c.isspace() for c in base_url):
        return f"{what} {shown!r} is not a valid URL; write it such as {example}"
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(host):
        return (
            f"{what} {shown!r} uses plain http to a host that is not loopback; the API key "
            "would travel unencrypted. Use https, or set provider.allow_insecure_http: true "
            "in ftctl.yaml if you really mean it."
        )
    return None
