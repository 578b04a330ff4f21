"""Compiled validators: fast on the hot path, clear on failure.

Each schema is compiled once with jsonschema-rs (well under a microsecond per
payload); only when a value fails is the reference ``jsonschema`` validator
run, to produce a message that names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import jsonschema_rs

from partygraph._schema_messages import describe_errors
from partygraph.errors import ValidationError

__all__ = ["CompiledSchema"]


class CompiledSchema:
    """A JSON Schema compiled once; ``check`` raises :class:`ValidationError`."""

    __slots__ = ("_fast", "_reference", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._fast = jsonschema_rs.validator_for(self.schema, validate_formats=True)
        self._reference: jsonschema.protocols.Validator | None = None

    def is_valid(self, value: Any) -> bool:
        """True when *value* conforms."""
        return bool(self._fast.is_valid(value))

    def check(self, value: Any, field: str = "") -> None:
        """Raise :class:`ValidationError` for the first violation, naming the field."""
        if not self._fast.is_valid(value):
            raise self.explain(value, field)

    def explain(self, value: Any, field: str = "") -> ValidationError:
        """The error to show for a value the fast validator rejected."""
        if self._reference is None:
            cls = jsonschema.validators.validator_for(self.schema)
            self._reference = cls(self.schema, format_checker=cls.FORMAT_CHECKER)
        described = describe_errors(self._reference.iter_errors(value), prefix=field)
        if not described:  # the two validators disagree: report the fast one's reason
            try:
                self._fast.validate(value)
            except jsonschema_rs.ValidationError as error:
                return ValidationError(field or "/", str(error).splitlines()[0], value)
            return ValidationError(field or "/", "is invalid", value)
        where, message = described[0]
        return ValidationError(where or field or "/", message, value)
