"""Hostile: os._exit(0) while autoencoder.py is imported.

Guarantee: Q1's parts fail (the process exited), Q2 (another file) keeps its credit.
"""

import os

os._exit(0)
