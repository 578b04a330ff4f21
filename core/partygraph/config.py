"""Reading and validating the one config file.

A config is TOML (JSON accepted), a dict, or nothing (the embedded default:
SQLite file ``partygraph.db``, every first-party plugin enabled). It is
validated against one JSON Schema composed from the core's schema and each
enabled plugin's; every violation is reported, sorted, as ``JSON-pointer:
message`` with the line where the format allows, and keys that a newer
version removed warn instead of failing.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import jsonschema

from partygraph._schema_messages import closest, describe_errors
from partygraph.errors import ConfigError, ConfigViolation
from partygraph.limits import nesting_depth
from partygraph.schemas import load_schema
from partygraph.storage.engine import redact_text

__all__ = [
    "DEFAULT_SOURCE",
    "Config",
    "ConfigWarning",
    "RawConfig",
    "compose_schema",
    "read_config",
    "resolve_config",
]

DEFAULT_SOURCE = "<default config>"

#: Deepest nesting of tables and arrays accepted in a config (deeper is an error,
#: not an exhausted stack).
MAX_CONFIG_DEPTH = 64


class ConfigWarning(FutureWarning):
    """A config key is deprecated or removed; it was ignored."""


@attrs.frozen
class RawConfig:
    """A config as read, before validation."""

    data: Mapping[str, Any]
    source: str
    text: str | None = None
    base_dir: Path = attrs.field(factory=Path.cwd)


@attrs.frozen
class Config:
    """A validated config, defaults filled in."""

    source: str
    database_url: str
    echo: bool
    auto_migrate: bool
    enabled: tuple[str, ...]
    plugin_settings: Mapping[str, Mapping[str, Any]]
    attributes: Mapping[str, Mapping[str, Mapping[str, Any]]]
    batch_size: int
    max_record_bytes: int
    data: Mapping[str, Any]
    max_depth: int = 64
    max_batch_size: int = 100_000
    max_batch_bytes: int = 64 << 20


def read_config(config: str | Path | Mapping[str, Any] | None) -> RawConfig:
    """Read a config from a path, a mapping or nothing (the embedded default)."""
    if config is None:
        return RawConfig({}, DEFAULT_SOURCE)
    if isinstance(config, Mapping):
        _check_depth(config, "<dict config>")
        return RawConfig(copy.deepcopy(dict(config)), "<dict config>")
    path = Path(config)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [ConfigViolation("", "file not found")]) from None
    except UnicodeDecodeError as error:
        where = path.read_bytes()[: error.start].count(b"\n") + 1
        violation = ConfigViolation("", f"not UTF-8 text (byte {error.start + 1})", where)
        raise ConfigError(str(path), [violation]) from None
    except OSError as error:
        raise ConfigError(str(path), [ConfigViolation("", f"cannot read: {error}")]) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except RecursionError:
        message = f"nested deeper than {MAX_CONFIG_DEPTH} levels"
        raise ConfigError(str(path), [ConfigViolation("", message)]) from None
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None)  # Python 3.14+; before, only in the message
        if line is None:
            found = re.search(r"at line (\d+)", str(error))
            line = int(found.group(1)) if found else None
        if line is None and "end of document" in str(error):
            line = max(1, len(text.splitlines()))  # the last line
        raise ConfigError(
            str(path), [ConfigViolation("", f"not valid TOML: {error}", line)]
        ) from None
    except json.JSONDecodeError as error:
        violation = ConfigViolation("", f"not valid JSON: {error.msg}", error.lineno)
        raise ConfigError(str(path), [violation]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), [ConfigViolation("", "must be a table/object")])
    _check_depth(data, str(path))
    return RawConfig(data, str(path), text, path.resolve().parent)


def _check_depth(data: Mapping[str, Any], source: str) -> None:
    if nesting_depth(data, MAX_CONFIG_DEPTH) > MAX_CONFIG_DEPTH:
        message = f"nested deeper than {MAX_CONFIG_DEPTH} levels"
        raise ConfigError(source, [ConfigViolation("", message)])


def compose_schema(plugin_schemas: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The core's config schema with each enabled plugin's under ``/plugins/<name>``."""
    schema = load_schema("config")
    plugins = schema["properties"]["plugins"]
    plugins["additionalProperties"] = False
    for name, plugin_schema in sorted(plugin_schemas.items()):
        section = dict(plugin_schema)
        section.setdefault("default", {})
        # A plugin schema's own "#/$defs/..." references must keep resolving
        # inside the composed schema: give it a base URI of its own.
        section.setdefault("$id", f"urn:partygraph:plugins:{name}")
        plugins["properties"][name] = section
    return schema


def _removed_keys(data: Any, schema: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Drop keys listed under ``x-removed`` (warning for each), recursively."""
    if not isinstance(data, dict):
        return data
    removed = schema.get("x-removed", {}) or {}
    out = {}
    for key, value in data.items():
        if key in removed:
            where = "/" + "/".join((*path, key))
            hint = removed[key]
            warnings.warn(
                f"{where} is no longer used and was ignored" + (f": {hint}" if hint else ""),
                ConfigWarning,
                stacklevel=4,
            )
            continue
        sub = schema.get("properties", {}).get(key, {})
        out[key] = _removed_keys(value, sub, (*path, key)) if isinstance(sub, dict) else value
    return out


def _fill_defaults(data: Any, schema: Mapping[str, Any]) -> Any:
    """Fill each missing property that has a ``default``, recursively."""
    if not isinstance(data, dict) or schema.get("type") not in (None, "object"):
        return data
    out = dict(data)
    for key, sub in schema.get("properties", {}).items():
        if not isinstance(sub, dict):
            continue
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = _fill_defaults(out[key], sub)
    return out


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def toml_line(text: str, pointer: str) -> int | None:
    """Best-effort line number of the key a JSON pointer names, in TOML text."""
    wanted = [part for part in pointer.split("/")[1:] if part]
    best: tuple[int, int] | None = None  # (matched depth, line)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = _split_key(header.group(1))
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = [*table, *_split_key(key.group(1))]
        depth = 0
        for have, want in zip(path, wanted, strict=False):
            if have != want:
                break
            depth += 1
        if depth == len(path) and depth and (best is None or depth > best[0]):
            best = (depth, number)
    return best[1] if best else None


def _violations(
    raw: RawConfig, schema: Mapping[str, Any], data: Mapping[str, Any]
) -> list[ConfigViolation]:
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    found = []
    for where, message in describe_errors(validator.iter_errors(data)):
        line = toml_line(raw.text, where) if raw.text and not raw.source.endswith(".json") else None
        found.append(ConfigViolation(where, message, line))
    return found


def _enabled_violations(
    raw: RawConfig, enabled: Any, available: Iterable[str]
) -> list[ConfigViolation]:
    known = sorted(set(available))
    found: list[ConfigViolation] = []
    if not isinstance(enabled, list):
        return found  # the schema reports the wrong type
    for index, name in enumerate(enabled):
        if isinstance(name, str) and name not in known:
            hint = closest(name, known)
            message = (
                f"unknown plugin {name!r}."
                + (f" Did you mean {hint!r}?" if hint else "")
                + f" Available: {', '.join(known) or 'none'}."
            )
            where = f"/plugins/enabled/{index}"
            line = toml_line(raw.text, where) if raw.text else None
            found.append(ConfigViolation(where, message, line))
    return found


def enabled_plugins(
    raw: RawConfig, available: Sequence[str], default: Sequence[str]
) -> tuple[list[str], list[ConfigViolation]]:
    """The known plugin names the config enables, and a violation per unknown name."""
    plugins = raw.data.get("plugins", {})
    enabled = plugins.get("enabled", list(default)) if isinstance(plugins, dict) else []
    violations = _enabled_violations(raw, enabled, available)
    if not isinstance(enabled, list):
        return [], violations
    known = set(available)
    return [name for name in enabled if isinstance(name, str) and name in known], violations


def resolve_config(
    raw: RawConfig,
    enabled: Sequence[str],
    plugin_schemas: Mapping[str, Mapping[str, Any]],
    violations_so_far: Sequence[ConfigViolation] = (),
) -> Config:
    """Validate *raw* against the composed schema and fill in defaults.

    Raises :class:`ConfigError` listing every violation, sorted.
    """
    schema = compose_schema(plugin_schemas)
    data = _removed_keys(dict(raw.data), schema, ())
    for name, plugin_schema in plugin_schemas.items():
        section = data.get("plugins", {}).get(name)
        if isinstance(section, dict):
            data["plugins"][name] = _removed_keys(section, plugin_schema, ("plugins", name))
    violations = [*violations_so_far, *_violations(raw, schema, data)]
    unknown = {v.pointer for v in violations_so_far}
    plugins_section = data.get("plugins", {})
    if isinstance(plugins_section, dict):
        for key in plugins_section:
            if key != "enabled" and key not in enabled and unknown:
                violations = [v for v in violations if v.pointer != f"/plugins/{key}"]
            elif key != "enabled" and key not in enabled:
                violations = [v for v in violations if v.pointer != f"/plugins/{key}"]
                where = f"/plugins/{key}"
                violations.append(
                    ConfigViolation(
                        where,
                        f"settings for plugin {key!r}, which is not enabled; "
                        "add it to /plugins/enabled or remove this section",
                        toml_line(raw.text, where) if raw.text else None,
                    )
                )
    violations.extend(_batch_size_violations(raw, data))
    if violations:
        raise ConfigError(raw.source, _redacted(violations, data))
    data = _fill_defaults(data, schema)
    database = data["database"]
    url = str(database["url"])
    url = _relative_sqlite(url, raw.base_dir)
    return Config(
        source=raw.source,
        database_url=url,
        echo=bool(database["echo"]),
        auto_migrate=bool(database["auto_migrate"]),
        enabled=tuple(enabled),
        plugin_settings={name: data["plugins"].get(name, {}) for name in enabled},
        attributes=data["attributes"],
        batch_size=int(data["import"]["batch_size"]),
        max_record_bytes=int(data["import"]["max_record_bytes"]),
        data=data,
        max_depth=int(data["import"]["max_depth"]),
        max_batch_size=int(data["import"]["max_batch_size"]),
        max_batch_bytes=int(data["import"]["max_batch_bytes"]),
    )


def _redacted(violations: list[ConfigViolation], data: Mapping[str, Any]) -> list[ConfigViolation]:
    """The violations with any password of the configured database URL hidden."""
    database = data.get("database")
    url = database.get("url") if isinstance(database, dict) else None
    if not isinstance(url, str):
        url = None
    return [ConfigViolation(v.pointer, redact_text(v.message, url), v.line) for v in violations]


def _batch_size_violations(raw: RawConfig, data: Mapping[str, Any]) -> list[ConfigViolation]:
    """``import.batch_size`` may not exceed ``import.max_batch_size``."""
    section = data.get("import")
    if not isinstance(section, dict):
        return []
    size = section.get("batch_size", 5000)
    limit = section.get("max_batch_size", 100_000)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (size, limit)):
        return []  # the schema reports the wrong type
    if size <= limit:
        return []
    where = "/import/batch_size"
    line = toml_line(raw.text, where) if raw.text and not raw.source.endswith(".json") else None
    message = f"must be at most import.max_batch_size ({limit}), got {size}"
    return [ConfigViolation(where, message, line)]


def _relative_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if not rest or rest.startswith("/") or rest.startswith(":memory:") or rest.startswith("file:"):
        return url
    path, sep, query = rest.partition("?")
    return f"{prefix}{(base / path)}{sep}{query}"
