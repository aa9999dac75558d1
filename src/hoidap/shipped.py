"""The data files shipped inside the package (``src/hoidap/data/``): word lists and trained models."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any


def data_json(name: str) -> dict[str, Any]:
    """``data/<name>`` parsed; read from the installed package, so it works from a wheel too."""
    raw: dict[str, Any] = json.loads(resources.files("hoidap").joinpath("data", name).read_text(encoding="utf-8"))
    return raw


def trained_model(name: str, features: Sequence[str]) -> dict[str, Any]:
    """A model written by a script in scripts/, checked against the features the code computes.

    A model trained on other features would score silently wrong: refuse it.
    """
    model = data_json(name)
    if tuple(model["features"]) != tuple(features):
        raise RuntimeError(f"{name} features {model['features']} != {tuple(features)}")
    return model
