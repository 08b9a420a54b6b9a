"""Shared fixtures for the form tests: the real catalog schemas."""

from __future__ import annotations

from typing import Any

import pytest

from eachlabs_widgets.emulator import load_catalog


def load_models() -> list[dict[str, Any]]:
    """The catalogue the emulator serves: the real schemas of the integration guide's models."""
    return load_catalog()


MODELS = load_models()
BY_SLUG = {m["slug"]: m for m in MODELS}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "catalog_model" in metafunc.fixturenames:
        metafunc.parametrize("catalog_model", MODELS, ids=[m["slug"] for m in MODELS])


@pytest.fixture
def schema_of() -> Any:
    return lambda slug: BY_SLUG[slug]["request_schema"]
