"""Turn JSON Schema errors into short messages that name the field.

Used for config files and for records alike: each error becomes a JSON
pointer plus a sentence that says what is wrong, the value received and what
is allowed (with a "did you mean" for misspelt keys) -- never the schema.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jsonschema

__all__ = ["closest", "describe_errors", "pointer"]

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a table/object",
    "array": "a list",
    "null": "null",
}


def pointer(path: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "/" + "/".join(parts) if parts else ""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to *word*, if any is close enough to suggest."""
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _describe(error: jsonschema.ValidationError) -> Iterator[tuple[str, str]]:
    value: Any = error.validator_value
    where = pointer(error.absolute_path)
    validator = error.validator
    if validator == "type":
        yield where, f"must be {_expected(error.validator_value)}, got {_short(error.instance)}"
    elif validator == "required":
        present = set(error.instance) if isinstance(error.instance, Mapping) else set()
        missing = [name for name in value if name not in present]
        for name in missing[:1]:
            yield f"{where}/{name}", "is required"
        if not missing:
            yield where, error.message
    elif validator == "additionalProperties" and isinstance(error.instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = set(schema.get("properties", {}))
        for key in sorted(set(error.instance) - known):
            hint = closest(key, known)
            allowed = ", ".join(sorted(known)) or "none"
            suggestion = f"; did you mean {hint!r}?" if hint else f"; allowed keys: {allowed}"
            yield f"{where}/{key}", f"unknown key {key!r}{suggestion}"
    elif validator == "enum":
        allowed = ", ".join(repr(item) for item in value)
        hint = (
            closest(error.instance, [v for v in value if isinstance(v, str)])
            if isinstance(error.instance, str)
            else None
        )
        suggestion = f" Did you mean {hint!r}?" if hint else ""
        yield where, f"must be one of {allowed}, got {_short(error.instance)}.{suggestion}"
    elif validator == "const":
        yield where, f"must be {error.validator_value!r}, got {_short(error.instance)}"
    elif validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[str(validator)]
        yield where, f"must be {words} {error.validator_value}, got {_short(error.instance)}"
    elif validator in {"minLength", "maxLength", "minItems", "maxItems"}:
        # The message starts with the whole instance: never echo a long value back.
        yield where, error.message.replace(repr(error.instance), "value", 1)
    elif validator == "format":
        yield where, f"must be a valid {error.validator_value}, got {_short(error.instance)}"
    elif validator == "pattern":
        yield (
            where,
            (f"must match the pattern {error.validator_value!r}, got {_short(error.instance)}"),
        )
    else:
        yield where, error.message


def describe_errors(
    errors: Iterable[jsonschema.ValidationError], prefix: str = ""
) -> list[tuple[str, str]]:
    """Every error as ``(pointer, message)``, sorted and without duplicates."""
    found: set[tuple[str, str]] = set()
    for error in errors:
        # anyOf/oneOf: report the branch that matched best, not the whole schema.
        if error.context:
            best = jsonschema.exceptions.best_match(error.context)
            if best is not None:
                error = best
        for where, message in _describe(error):
            found.add((prefix + where, message))
    return sorted(found)
