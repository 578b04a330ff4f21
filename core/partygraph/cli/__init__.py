"""The ``partygraph`` command line.

``partygraph [--config FILE] COMMAND``. Without ``--config``, ``./partygraph.toml``
is used when present, else the embedded default. Every command that reports
data takes ``--json``. Exit status: 0 success, 2 bad input or invalid config
(message on stderr, nothing written), 1 database unreachable or internal failure.
"""

from partygraph.cli.app import COMMANDS_GROUP, cli, installed_commands, main, pass_toolkit
from partygraph.cli.segments import segment

cli.add_command(segment)

__all__ = ["COMMANDS_GROUP", "cli", "installed_commands", "main", "pass_toolkit"]
