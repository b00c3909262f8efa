"""Name the mistake behind a wrong array-valued answer instead of saying "mismatch".

The checks step has already decided *that* an answer is wrong on some cases; this module says
*how*: transposed, reshaped, off by a sign or a constant factor, zero, constant, right only on
some cases, which declared term is missing, flipped or scaled (``diagnose_terms``), or which
declared wrong answer it is (``match_alternatives``). Every claim is tested with the grader's
own tolerance rule, ``||got - c * expected||_F <= atol + rtol * ||c * expected||_F`` on every
case it is about, so a diagnosis holds within the tolerance that graded the answer and a
correct answer never gets one.

Fast because it runs for every wrong part of every submission: the cases are raveled end to
end (``base.Flat``); one pass projects the answer on the expected value of each case, after
which every candidate factor (1, -1, 0, a fitted factor and its simple forms, one per case, a
dimension) costs a few operations on per-case numbers. What depends on the reference only
(the expected values, term bases, declared wrong answers) is prepared once per assignment and
seed with ``Stack.build``, ``TermBasis.build`` and ``Alternatives.build``.

Modules: ``values`` (generic rules), ``terms`` (structural), ``alternatives`` (declared wrong
answers), ``base`` (what they share).

A leaf package: stdlib and numpy only. Nothing here raises on odd input (NaN, inf, empty, 0-d,
None): a rule that cannot be evaluated does not fire.
"""

from grader.diagnosis.alternatives import Alternatives, match_alternatives, matching_alternatives
from grader.diagnosis.base import Diagnosis
from grader.diagnosis.terms import TermBasis, diagnose_terms
from grader.diagnosis.values import Stack, diagnose_values

__all__ = [
    "Alternatives",
    "Diagnosis",
    "Stack",
    "TermBasis",
    "diagnose_terms",
    "diagnose_values",
    "match_alternatives",
    "matching_alternatives",
]
