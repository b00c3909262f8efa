"""Hostile: sys.exit while gplvm.py is imported.

Guarantee: Q2's parts fail to import, Q1 (another file) keeps its credit.
"""

import sys

sys.exit("gplvm.py refuses to be imported")
