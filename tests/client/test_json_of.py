"""json_of: the client reads answer bodies with orjson, and as the standard library would."""

from __future__ import annotations

import json

import httpx
import pytest

from reconciler.client.http import json_of

VALUES = [
    {"id": "ftjob-1", "metadata": {"ftctl-name": "m", "é": "ü"}, "n": 3, "x": 0.5, "z": None},
    {"seed": 2**70},  # beyond 64 bits: orjson refuses, the standard library does not
    {"a": [1, 2.0, True, "s"]},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_client_reads_every_body_as_the_standard_library_does(value):
    response = httpx.Response(200, content=json.dumps(value).encode())
    assert json_of(response) == value


def test_the_client_refuses_a_body_that_is_not_json():
    with pytest.raises(ValueError):
        json_of(httpx.Response(200, content=b"<html>"))
