"""jsoncodec: orjson's speed, the standard library's answers where orjson refuses."""

from __future__ import annotations

import json

import pytest

from reconciler.emulator import jsoncodec

VALUES = [
    {"id": "ftjob-1", "metadata": {"ftctl-name": "m", "é": "ü"}, "n": 3, "x": 0.5, "z": None},
    {"seed": 2**70},  # beyond 64 bits: orjson refuses, the standard library does not
    {"a": [1, 2.0, True, "s"]},
]


@pytest.mark.parametrize("value", VALUES)
def test_round_trips_like_the_standard_library(value):
    assert jsoncodec.loads(jsoncodec.dumps(value)) == value
    assert jsoncodec.loads(json.dumps(value)) == json.loads(json.dumps(value))


def test_nan_is_read_as_the_standard_library_reads_it():
    assert str(jsoncodec.loads('{"x": NaN}')["x"]) == "nan"


def test_what_is_not_json_is_refused_with_a_value_error():
    with pytest.raises(ValueError):
        jsoncodec.loads("{not json")
