"""A database password in the URL never appears in an error, a log line or ``--json`` output.

Every command that opens a database runs against URLs with a password that
cannot connect (a closed port, a port that is no number, a broken host), with
the debug traceback on and every logger captured at DEBUG level, SQL echo
included. The password may appear nowhere in standard output, standard error
or the log records; the exit status is 1 (the database cannot be reached) or
2 (the URL itself is wrong), never a traceback without ``PARTYGRAPH_DEBUG``.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import record_cases

import partygraph
from partygraph import PartygraphError
from partygraph.cli import main

SECRET = "s3cr3t-Pw0rd"
URLS = [
    f"postgresql://user:{SECRET}@127.0.0.1:1/partygraph",
    f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/partygraph?connect_timeout=2",
    f"postgresql://user:{SECRET}@127.0.0.1:notaport/partygraph",
    f"postgresql://user:{SECRET}@[::1:1/partygraph",
    f"postgresql://user@127.0.0.1:1/partygraph?password={SECRET}",
    f"mysql://user:{SECRET}@127.0.0.1/partygraph",
]
COMMANDS = [
    ["explain", "alice", "--json"],
    ["show", "alice", "--json"],
    ["import", "{jsonl}", "--json"],
    ["import", "{csv}", "--kind", "person", "--json"],
    ["db", "upgrade"],
    ["db", "current", "--json"],
    ["privacy", "export", "alice"],
    ["privacy", "erase", "alice"],
    ["privacy", "verify-audit"],
    ["b2c", "customers", "--json"],
]


class Everything(logging.Handler):
    """Keeps every formatted log record, exception text included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def config_file(folder: Path, url: str, echo: bool) -> Path:
    path = folder / "partygraph.json"
    config = {"database": {"url": url, "echo": echo}, "plugins": {"enabled": ["privacy", "b2c"]}}
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("echo", [False, True])
def test_no_command_shows_the_password(
    echo: bool,
    tmp_path: Path,
    captured_logs: Everything,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTYGRAPH_DEBUG", "1")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"party": {"key": "alice", "kind": "person"}}\n')
    csv = tmp_path / "in.csv"
    csv.write_text("key,name\nalice,Alice\n")
    tried = 0
    for url in URLS:
        config = config_file(tmp_path, url, echo)
        for command in COMMANDS:
            argv = [part.format(jsonl=jsonl, csv=csv) for part in command]
            code = main(["--config", str(config), *argv])
            out, err = capsys.readouterr()
            where = f"{url} / {' '.join(command)}"
            assert code in (1, 2), f"{where}: exit {code}"
            assert SECRET not in out, where
            assert SECRET not in err, where
            assert err.strip(), where  # the failure is explained
            tried += 1
    logged = "\n".join(captured_logs.lines)
    assert SECRET not in logged
    record_cases("secrets: commands x URLs" + (" (SQL echo on)" if echo else ""), tried, tried)


@pytest.mark.parametrize("url", URLS)
def test_errors_raised_to_an_application_hide_the_password(
    url: str, captured_logs: Everything
) -> None:
    config = {"database": {"url": url}, "plugins": {"enabled": []}}
    with pytest.raises(PartygraphError) as caught:
        partygraph.open(config)
    shown = "".join(traceback.format_exception(caught.value))
    assert SECRET not in shown
    assert SECRET not in repr(caught.value)
    logging.getLogger("application").exception("could not open", exc_info=caught.value)
    assert SECRET not in "\n".join(captured_logs.lines)
    assert captured_logs.lines  # the application's own log line was captured


def test_an_invalid_config_does_not_echo_the_password(tmp_path: Path) -> None:
    path = tmp_path / "partygraph.toml"
    path.write_text(f'[database]\nurl = "postgresql://u:{SECRET}@h/x\\t"\nbogus = 1\n')
    code = main(["config", "validate", str(path), "--json"])
    assert code == 2
    with pytest.raises(partygraph.ConfigError) as caught:
        partygraph.check_config(path)
    assert SECRET not in str(caught.value)
    assert "/database/url" in str(caught.value)
