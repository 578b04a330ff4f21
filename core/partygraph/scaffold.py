"""``partygraph new-plugin``: a new plugin as a separate installable package.

The templates ship inside partygraph (``partygraph/templates/plugin``). Paths
and contents are rendered by replacing ``{{placeholders}}``; a ``__name__``
or ``__package__`` part of a path becomes the plugin's name or package. The
result is a package with its own ``pyproject.toml`` (the entry point under
``partygraph.plugins``), a plugin class built on :class:`partygraph.PluginBase`,
its config JSON Schema, a table with its migration, a README, and tests that
use :mod:`partygraph.testing` and :mod:`partygraph.conformance`. It installs
and passes its own tests as written.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from partygraph.errors import ValidationError

__all__ = ["RESERVED_NAMES", "default_folder", "placeholders", "scaffold", "validate_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_LENGTH = 40
_TEMPLATE_SUFFIX = ".tmpl"
#: Names a plugin may not take: the core's own, and words the toolkit uses.
RESERVED_NAMES = frozenset({"core", "partygraph", "plugins", "enabled", "test", "tests"})


def validate_name(name: str, installed: Iterable[str] = ()) -> str:
    """Return *name* if it can name a plugin; else raise a :class:`ValidationError`.

    A plugin name is a lowercase Python identifier (it names the config
    section, the package ``partygraph_<name>``, the migration track and the
    table prefix) that no installed plugin uses already.
    """
    taken = set(installed)
    if not _NAME.match(name):
        raise ValidationError(
            "NAME",
            "a plugin name is a lowercase identifier: a letter, then letters, digits or "
            "underscores (e.g. 'nonprofit', 'loyalty_club')",
            name,
        )
    if len(name) > _MAX_LENGTH:
        raise ValidationError("NAME", f"a plugin name has at most {_MAX_LENGTH} characters", name)
    if keyword.iskeyword(name) or name in RESERVED_NAMES:
        raise ValidationError("NAME", f"{name!r} is reserved; choose another name", name)
    if name in taken:
        raise ValidationError(
            "NAME", f"an installed plugin is already named {name!r}; choose another name", name
        )
    return name


def placeholders(name: str, version: str) -> dict[str, str]:
    """The values the templates' ``{{placeholders}}`` take for plugin *name*."""
    words = name.split("_")
    return {
        "name": name,
        "package": f"partygraph_{name}",
        "dist": f"partygraph-{name.replace('_', '-')}",
        "Class": "".join(word.capitalize() for word in words if word) + "Plugin",
        "title": " ".join(words).capitalize() + " plugin",
        "partygraph_version": version,
    }


def default_folder(name: str) -> Path:
    """Where ``new-plugin NAME`` writes without ``--dir``: ``./partygraph-<name>``."""
    return Path(placeholders(name, "0")["dist"])


def _render(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _walk(
    node: Traversable, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Traversable]]:
    for child in sorted(node.iterdir(), key=lambda item: item.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            yield from _walk(child, (*prefix, child.name))
        else:
            yield (*prefix, child.name), child


def _target_part(part: str, values: Mapping[str, str]) -> str:
    part = part.replace("__package__", values["package"]).replace("__name__", values["name"])
    return part.removesuffix(_TEMPLATE_SUFFIX)


def scaffold(
    name: str,
    folder: Path,
    *,
    version: str,
    installed: frozenset[str] = frozenset(),
) -> list[Path]:
    """Write a new plugin package for *name* into *folder*; return the files written.

    *folder* must not exist yet, or be empty: nothing is ever overwritten.
    """
    validate_name(name, installed)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValidationError(
            "--dir", f"{folder} already exists and is not empty; nothing was written", str(folder)
        )
    values = placeholders(name, version)
    written: list[Path] = []
    for parts, source in _walk(files("partygraph") / "templates" / "plugin"):
        target = folder.joinpath(*(_target_part(part, values) for part in parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_render(source.read_text(encoding="utf-8"), values), encoding="utf-8")
        written.append(target)
    return written
