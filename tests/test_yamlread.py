"""grader.yamlread: the fast parser gives the same data, and a broken file the same error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader import yamlread

REPO = Path(__file__).resolve().parents[1]
SPECS = sorted(REPO.glob("assignments/*/assignment.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=[p.parent.name for p in SPECS])
def test_same_data_as_safe_load(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yamlread.safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    ["a: [1, 2\nb: 3\n", "key: value: other\n", "- a\nb: c\n", "a: 'unclosed\n"],
    ids=["unclosed-flow", "nested-colon", "list-then-map", "unclosed-quote"],
)
def test_same_error_as_safe_load(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        yamlread.safe_load(text)
    assert str(got.value) == str(expected.value)


def test_uses_libyaml_when_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml")
    assert yamlread._FAST is yaml.CSafeLoader
