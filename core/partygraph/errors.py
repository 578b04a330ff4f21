"""Typed errors that speak to the user.

Every error raised because of something the user supplied (a config file, a
record, an argument) derives from :class:`UserError`; the command line maps it
to exit status 2 and prints only its message. Anything else is an internal
failure (exit status 1). Messages say what was wrong, where, the value
received and what is allowed, and never contain a secret such as a database
password.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigError",
    "ConfigViolation",
    "NotFoundError",
    "PartygraphError",
    "PluginError",
    "RecordError",
    "StorageError",
    "UserError",
    "ValidationError",
    "WriteRefused",
    "WriteWithheld",
]


class PartygraphError(Exception):
    """Base class of every error partygraph raises on purpose."""


class UserError(PartygraphError):
    """Something the user supplied is wrong; nothing was written."""


class ValidationError(UserError):
    """A value failed validation.

    ``field`` is a JSON pointer or a dotted path naming the offending field,
    ``reason`` says why, ``value`` is what was received.
    """

    def __init__(self, field: str, reason: str, value: object = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        super().__init__(f"{field}: {reason}" if field else reason)


class RecordError(UserError):
    """An interchange record (one line of a JSON Lines file) is invalid."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


class NotFoundError(UserError):
    """A party, relationship or other object referred to does not exist."""


class WriteRefused(UserError):
    """A plugin refused a write (for example, no lawful basis); nothing was written."""

    def __init__(self, reason: str, *, plugin: str | None = None) -> None:
        self.reason = reason
        self.plugin = plugin
        super().__init__(f"{reason} (refused by plugin {plugin})" if plugin else reason)


class ConfigViolation:
    """One violation found in a config file: where, and what is wrong."""

    __slots__ = ("line", "message", "pointer")

    def __init__(self, pointer: str, message: str, line: int | None = None) -> None:
        self.pointer = pointer
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"

    def __repr__(self) -> str:
        return f"ConfigViolation({self.pointer!r}, {self.message!r}, line={self.line!r})"


class ConfigError(UserError):
    """The configuration is invalid; ``violations`` lists every problem, sorted."""

    def __init__(self, source: str, violations: Sequence[ConfigViolation]) -> None:
        self.source = source
        self.violations = sorted(violations, key=lambda v: (v.pointer, v.message))
        lines = []
        for violation in self.violations:
            where = f"{source}:{violation.line}" if violation.line else source
            lines.append(f"Invalid config in {where}: {violation}")
        super().__init__("\n".join(lines) if lines else f"Invalid config in {source}")


class PluginError(UserError):
    """An enabled plugin is unknown, failed to load, or misses a requirement."""


class StorageError(PartygraphError):
    """The database could not be reached or upgraded (the message hides passwords)."""


class WriteWithheld(UserError):
    """A plugin kept the record out of the core's tables (a quarantine, say)."""
