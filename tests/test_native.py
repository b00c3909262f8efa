"""grader.reports.native: the hand-written JSON and YAML writers read back to the same data.

The YAML emitter is small and fast (PyYAML's representer cost ~18 ms per report); these
properties are what keep it honest: any report-shaped data, with any strings a student's code
could put into feedback or stdout, reads back through PyYAML and json exactly.
"""

from __future__ import annotations

import json
import math

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.reports.native import dump_json, dump_yaml

TRICKY = st.sampled_from(
    [
        "",
        "n",
        "Yes",
        "null",
        "~",
        "1e-06",
        "- a\n: b",
        "#c\nd",
        "  lead\nx",
        "a\n\tb",
        "x\n",
        "\n",
        "a, b",
        "{x}",
        "a: b",
        "ᵀ⁻¹αβ",
        "\u0085\u2028\u2029",
        "\ufeff",
        "\x00\x7f\x9f",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | TRICKY
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=14)
        | st.dictionaries(st.text(max_size=12) | TRICKY, inner, max_size=14)
    ),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=12) | TRICKY, VALUES, max_size=8), VALUES)
def test_yaml_and_json_read_back_exactly(top: dict, parts: object) -> None:
    data = {**top, "parts": [parts, {"cases": [top]}]}
    assert yaml.safe_load(dump_yaml(data)) == data
    assert json.loads(dump_json(data)) == data


def test_floats_stay_floats_in_yaml() -> None:
    # YAML 1.1 (PyYAML) reads 1e-06 as a string: the emitter must write 1.0e-06.
    data = {"rel_error": 1e-06, "big": 1e22, "tiny": 5e-324, "pi": math.pi}
    assert yaml.safe_load(dump_yaml(data)) == data
