"""Instructor-declared wrong answers (misconceptions): which one an answer is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.diagnosis.base import Flat, as_array, passes

__all__ = ["Alternatives", "match_alternatives", "matching_alternatives"]


@dataclass(frozen=True, slots=True)
class _Block:
    """Alternatives of one shape on every case, stacked: one numpy pass compares them all."""

    names: tuple[str, ...]
    cases: tuple[int, ...]  # the cases they have a value on
    shapes: tuple[tuple[int, ...], ...]  # their shape on each of those cases
    layout: Flat
    values: np.ndarray  # (len(names), total size of those cases)


class Alternatives:
    """Declared wrong answers (misconceptions), stacked once for every submission."""

    __slots__ = ("blocks", "names")

    @np.errstate(all="ignore")
    def __init__(self, alternatives: Mapping[str, Sequence[object]]) -> None:
        self.names = tuple(alternatives)
        groups: dict[tuple[tuple[int, ...] | None, ...], list[list[np.ndarray | None]]] = {}
        members: dict[tuple[tuple[int, ...] | None, ...], list[str]] = {}
        for name, raw in alternatives.items():
            arrays = [as_array(v) for v in raw]
            key = tuple(None if a is None or a.size == 0 else a.shape for a in arrays)
            groups.setdefault(key, []).append(arrays)
            members.setdefault(key, []).append(name)
        self.blocks: list[_Block] = []
        for key, group in groups.items():
            cases = tuple(i for i, shape in enumerate(key) if shape is not None)
            if not cases:
                continue  # nothing to compare with: it never matches
            flats = [Flat([a for i, a in enumerate(arrays) if i in cases]) for arrays in group]
            shapes = tuple(shape for shape in key if shape is not None)
            stacked = np.stack([f.flat for f in flats])
            self.blocks.append(_Block(tuple(members[key]), cases, shapes, flats[0], stacked))

    @classmethod
    def build(cls, alternatives: Mapping[str, Sequence[object]]) -> Alternatives:
        return cls(alternatives)


@np.errstate(all="ignore")
def matching_alternatives(
    got: Sequence[np.ndarray | None],
    alternatives: Mapping[str, Sequence[np.ndarray]] | Alternatives,
    *,
    rtol: float,
    atol: float,
) -> list[str]:
    """Every alternative (in declared order) the answer matches on each case where both exist:
    same shape, within tolerance. An alternative with no case to compare never matches.
    `alternatives` may be an Alternatives built once for many answers."""
    alts = alternatives if isinstance(alternatives, Alternatives) else Alternatives(alternatives)
    gs = [as_array(g) for g in got]
    found: set[str] = set()
    for block in alts.blocks:
        answered = [
            (j, g) for j, i in enumerate(block.cases) if i < len(gs) and (g := gs[i]) is not None
        ]
        if not answered or any(g.shape != block.shapes[j] for j, g in answered):
            continue
        layout, values = block.layout, block.values
        if len(answered) < len(block.cases):  # missing on some cases: compare on the others
            positions = [j for j, _ in answered]
            values = values[:, layout.take(positions)]
            layout = Flat.layout(layout.sizes[positions])
        got_flat = np.concatenate([g.ravel() for _, g in answered])
        residual = layout.norms_of(got_flat - values)
        hits = passes(residual, layout.norms_of(values), rtol, atol).all(axis=1)
        found.update(name for name, hit in zip(block.names, hits, strict=True) if hit)
    return [name for name in alts.names if name in found]


def match_alternatives(
    got: Sequence[np.ndarray | None],
    alternatives: Mapping[str, Sequence[np.ndarray]] | Alternatives,
    *,
    rtol: float,
    atol: float,
) -> str | None:
    """Instructor-declared wrong answers (misconceptions): the name of the first alternative the
    student's output matches on every case where both exist (same shape, within tolerance), else
    None. An alternative with no case to compare never matches."""
    found = matching_alternatives(got, alternatives, rtol=rtol, atol=atol)
    return found[0] if found else None
