"""The public API: a sorted, complete top-level ``__all__``; module ``__all__``s resolve."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import partygraph

#: Modules whose classes are all part of the public API.
PUBLIC_CLASS_MODULES = ("partygraph.model", "partygraph.vocabulary", "partygraph.errors")


def _public_modules() -> list[str]:
    """partygraph and every submodule without an underscore in its dotted name."""
    names = ["partygraph"]
    for info in pkgutil.walk_packages(partygraph.__path__, "partygraph."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def test_all_is_sorted_and_unique() -> None:
    names = list(partygraph.__all__)
    assert names == sorted(names), "partygraph.__all__ is not sorted"
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"partygraph.__all__ lists these twice: {duplicates}"


def test_every_name_in_all_resolves() -> None:
    missing = [name for name in partygraph.__all__ if not hasattr(partygraph, name)]
    assert not missing, f"partygraph.__all__ names missing attributes: {missing}"


@pytest.mark.parametrize("module_name", PUBLIC_CLASS_MODULES)
def test_every_public_class_is_exported_at_top_level(module_name: str) -> None:
    module = importlib.import_module(module_name)
    classes = sorted(
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_")
    )
    assert classes
    missing = [name for name in classes if name not in partygraph.__all__]
    assert not missing, f"classes of {module_name} missing from partygraph.__all__: {missing}"
    for name in classes:
        if name in partygraph.__all__:
            assert getattr(partygraph, name) is getattr(module, name)


@pytest.mark.parametrize("module_name", _public_modules())
def test_module_all_resolves(module_name: str) -> None:
    module: ModuleType = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        pytest.skip(f"{module_name} has no __all__")
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing attributes: {missing}"
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ has duplicates"
