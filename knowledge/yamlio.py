"""Reading the YAML data files: libyaml's C parser when PyYAML was built with it.

The pure-Python parser takes most of start-up on the example files; the C one reads the same
documents (and reports the same line and column on a mistake) several times faster.
"""
from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """Parse one YAML document with the safe loader (no Python objects)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506  (a safe loader)
