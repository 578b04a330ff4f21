"""Finding, enabling and ordering plugins.

Plugins are found through the ``partygraph.plugins`` entry-point group, first-
party ones included. Only enabled plugins are imported, so a broken plugin
that is installed but not enabled cannot break anything; an enabled plugin
that fails to load stops the toolkit (enabled means required). Plugins are
registered in a deterministic topological order: a plugin's declared
``run_after`` names come first, ties broken by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import attrs
import pluggy
from packaging.requirements import InvalidRequirement, Requirement

from partygraph import hookspecs
from partygraph.errors import PluginError

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugins",
    "PluginInfo",
    "available_plugins",
    "first_party_plugins",
    "load_plugins",
    "plugin_report",
]

ENTRY_POINT_GROUP = "partygraph.plugins"
_OWN_DISTRIBUTION = "partygraph"


@attrs.frozen
class PluginInfo:
    """What ``partygraph plugins`` says about one plugin."""

    name: str
    version: str | None
    distribution: str | None
    enabled: bool
    reason: str | None
    hooks: tuple[str, ...] = ()


@attrs.frozen
class LoadedPlugins:
    """The enabled plugins of one toolkit, registered on its own plugin manager."""

    manager: pluggy.PluginManager
    order: tuple[str, ...]
    objects: Mapping[str, object]
    infos: tuple[PluginInfo, ...]


def available_plugins() -> dict[str, EntryPoint]:
    """Installed plugins by name, without importing any of them."""
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry)
    return dict(sorted(found.items()))


def first_party_plugins() -> list[str]:
    """Names of the plugins shipped in the partygraph distribution itself."""
    return [
        name
        for name, entry in available_plugins().items()
        if entry.dist is not None and entry.dist.name == _OWN_DISTRIBUTION
    ]


def _distribution(entry: EntryPoint | None) -> tuple[str | None, str | None]:
    if entry is None or entry.dist is None:
        return None, None
    return entry.dist.name, entry.dist.version


def _instantiate(name: str, entry: EntryPoint | None, loaded: object) -> object:
    if inspect.isclass(loaded):
        try:
            return loaded()
        except Exception as error:
            raise _load_error(name, entry, error) from error
    return loaded


def _load_error(name: str, entry: EntryPoint | None, error: BaseException) -> PluginError:
    dist, version = _distribution(entry)
    where = f" (distribution {dist} {version})" if dist else ""
    return PluginError(
        f"Plugin {name!r}{where} is enabled but failed to load: {type(error).__name__}: {error}"
    )


def _requirements(name: str, plugin: object) -> list[Requirement]:
    found = []
    for text in getattr(plugin, "requires", ()) or ():
        try:
            found.append(Requirement(str(text)))
        except InvalidRequirement as error:
            raise PluginError(f"Plugin {name!r} declares an invalid requirement: {error}") from None
    return found


def _unmet_requirement(
    name: str, requirements: Iterable[Requirement], versions: Mapping[str, str | None]
) -> str | None:
    """Why *name*'s requirements are not met by the plugins in *versions*, or None."""
    for requirement in requirements:
        if requirement.name not in versions:
            return (
                f"Plugin {name!r} requires plugin {requirement.name!r}, which is not "
                f"enabled; add it to plugins.enabled"
            )
        version = versions[requirement.name]
        if requirement.specifier and version and version not in requirement.specifier:
            return (
                f"Plugin {name!r} requires {requirement}, but {requirement.name!r} "
                f"is version {version}"
            )
    return None


def _ordering(names: Iterable[str], plugins: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """A deterministic topological order honouring each plugin's ``run_after``, and the
    plugins left out of it because their ``run_after`` goes round in a circle (sorted)."""
    pending = set(names)
    after = {
        name: {dep for dep in getattr(plugins[name], "run_after", ()) or () if dep in pending}
        for name in pending
    }
    order: list[str] = []
    while pending:
        ready = sorted(name for name in pending if not (after[name] & pending))
        if not ready:
            break
        order.append(ready[0])
        pending.remove(ready[0])
    return order, sorted(pending)


def _order(names: Iterable[str], plugins: Mapping[str, object]) -> list[str]:
    """The plugins in ``run_after`` order; :class:`PluginError` on a cycle."""
    order, stuck = _ordering(names, plugins)
    if stuck:
        raise PluginError(f"Plugins {', '.join(stuck)} declare run_after in a cycle; break it")
    return order


def _check_hook_names(manager: pluggy.PluginManager, name: str, plugin: object) -> None:
    """Refuse an implementation of a hook that does not exist (a misspelt name)."""
    for hook in manager.get_hookcallers(plugin) or []:
        if hook.spec is None:
            raise PluginError(
                f"Plugin {name!r} implements {hook.name!r}, which is not a partygraph "
                f"hook; see the hook reference"
            )


def _implemented_hooks(manager: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    callers = manager.get_hookcallers(plugin) or []
    return tuple(sorted(caller.name for caller in callers))


def load_plugins(
    enabled: Sequence[str],
    extra: Mapping[str, object] | None = None,
    builtin: Sequence[tuple[str, object]] = (),
) -> LoadedPlugins:
    """Import, check and register the *enabled* plugins on a new plugin manager.

    *extra* maps names to in-process plugin objects (an embedding application's
    own plugins); they are enabled when named in *enabled*. *builtin* plugins
    (the core's own hook implementations) are always registered first.
    Raises :class:`PluginError` naming the plugin and its distribution.
    """
    extra = dict(extra or {})
    entries = available_plugins()
    objects: dict[str, object] = {}
    for name in enabled:
        if name in extra:
            objects[name] = _instantiate(name, None, extra[name])
            continue
        entry = entries.get(name)
        if entry is None:
            from partygraph._schema_messages import closest

            known = sorted({*entries, *extra})
            hint = closest(name, known)
            raise PluginError(
                f"Unknown plugin {name!r}."
                + (f" Did you mean {hint!r}?" if hint else "")
                + f" Available: {', '.join(known) or 'none'}."
            )
        try:
            loaded = entry.load()
        except Exception as error:
            raise _load_error(name, entry, error) from error
        objects[name] = _instantiate(name, entry, loaded)

    versions = {name: _distribution(entries.get(name))[1] for name in objects}
    for name, plugin in objects.items():
        problem = _unmet_requirement(name, _requirements(name, plugin), versions)
        if problem:
            raise PluginError(problem)

    order = _order(objects, objects)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    # pluggy calls the most recently registered implementation first: register
    # in reverse so that calls follow the topological order, built-ins first.
    sequence = [*builtin, *((name, objects[name]) for name in order)]
    for name, plugin in reversed(sequence):
        try:
            manager.register(plugin, name=name)
        except Exception as error:
            entry = entries.get(name)
            raise _load_error(name, entry, error) from error
    for name, plugin in sequence:
        _check_hook_names(manager, name, plugin)
    infos = tuple(
        PluginInfo(
            name,
            _distribution(entries.get(name))[1],
            _distribution(entries.get(name))[0],
            True,
            None,
            _implemented_hooks(manager, objects[name]),
        )
        for name in order
    )
    return LoadedPlugins(manager, tuple(order), objects, infos)


def plugin_report(
    enabled: Sequence[str], extra: Mapping[str, object] | None = None
) -> list[PluginInfo]:
    """Every discovered plugin, whether it is enabled and, if not, why; never raises."""
    entries = available_plugins()
    names = sorted({*entries, *(extra or {}), *enabled})
    report: list[PluginInfo] = []
    loaded: dict[str, object] = {}
    failures: dict[str, str] = {}
    for name in names:
        if name not in enabled:
            continue
        try:
            if extra and name in extra:
                loaded[name] = _instantiate(name, None, extra[name])
            elif name in entries:
                loaded[name] = _instantiate(name, entries[name], entries[name].load())
            else:
                failures[name] = "not installed"
        except Exception as error:
            failures[name] = f"failed to load: {type(error).__name__}: {error}"
    in_cycle = _ordering(loaded, loaded)[1]
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in names:
        dist, version = _distribution(entries.get(name))
        if name not in enabled:
            report.append(PluginInfo(name, version, dist, False, "not in config"))
            continue
        if name in failures:
            report.append(PluginInfo(name, version, dist, False, failures[name]))
            continue
        plugin = loaded[name]
        versions = {other: _distribution(entries.get(other))[1] for other in loaded}
        problem = _unmet_requirement(name, _safe_requirements(name, plugin), versions)
        if problem or name in in_cycle:
            reason = problem or (
                "cannot be ordered: run_after goes round in a circle among " + ", ".join(in_cycle)
            )
            report.append(PluginInfo(name, version, dist, False, reason))
            continue
        try:
            manager.register(plugin, name=name)
        except Exception as error:
            report.append(PluginInfo(name, version, dist, False, f"failed to register: {error}"))
            continue
        try:
            _check_hook_names(manager, name, plugin)
        except PluginError as error:
            manager.unregister(plugin)
            report.append(PluginInfo(name, version, dist, False, f"failed to register: {error}"))
            continue
        hooks = _implemented_hooks(manager, plugin)
        report.append(PluginInfo(name, version, dist, True, None, hooks))
    return report


def _safe_requirements(name: str, plugin: object) -> list[Requirement]:
    try:
        return _requirements(name, plugin)
    except PluginError:
        return []


def describe_plugin(info: PluginInfo) -> dict[str, Any]:
    """The JSON shape of ``partygraph plugins --json``."""
    return {
        "name": info.name,
        "version": info.version,
        "enabled": info.enabled,
        "reason": info.reason,
        "hooks": list(info.hooks),
    }
