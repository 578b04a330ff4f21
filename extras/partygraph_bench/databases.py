"""Where the benchmark writes: a world database and fresh databases to ingest into.

SQLite: files in a temporary folder (in the folder of ``--database
sqlite:///path`` if given); a prepared database is copied file by
file, which is how each ingest repetition starts from the same state without
writing it again. PostgreSQL (``--database postgresql://...``): one schema per
database in the given database, dropped at the end; a prepared database is
written again into a new schema (untimed).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url

__all__ = ["Workspace", "sqlite_path"]


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


class Workspace:
    """Hands out database URLs for one run and removes them afterwards."""

    def __init__(self, database: str | None) -> None:
        self.base: URL | None = None
        self._schemas: list[str] = []
        self._count = 0
        parent: Path | None = None
        if database is not None:
            url = make_url(database)
            if url.get_backend_name() == "postgresql":
                if url.drivername == "postgresql":
                    url = url.set(drivername="postgresql+psycopg")
                self.base = url
            elif url.get_backend_name() == "sqlite" and url.database:
                # A SQLite URL names where the files go (its folder): the disk to measure.
                parent = Path(url.database).resolve().parent
            else:
                raise ValueError(f"database: expected a sqlite or postgresql URL, got {database}")
        self.folder = Path(tempfile.mkdtemp(prefix="partygraph-bench-", dir=parent))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "postgresql" if self.base is not None else "sqlite"

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database called after *name*."""
        self._count += 1
        if self.base is None:
            return f"sqlite:///{self.folder / f'{name}-{self._count}.db'}"
        schema = f"pgbench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        engine = create_engine(self.base)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        finally:
            engine.dispose()
        self._schemas.append(schema)
        scoped = self.base.update_query_dict({"options": f"-csearch_path={schema}"})
        return scoped.render_as_string(hide_password=False)

    def copy(self, url: str, name: str) -> str | None:
        """A copy of the SQLite database at *url*, or None where copying does not apply."""
        source = sqlite_path(url)
        if source is None:
            return None
        target = self.fresh(name)
        destination = sqlite_path(target)
        assert destination is not None
        shutil.copyfile(source, destination)
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{source}{suffix}")
            if extra.exists():
                shutil.copyfile(extra, Path(f"{destination}{suffix}"))
        return target

    def discard(self, url: str) -> None:
        """Remove a database that is no longer needed (files are deleted at once)."""
        path = sqlite_path(url)
        if path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        """Drop every schema created and delete the folder."""
        if self.base is not None and self._schemas:
            engine = create_engine(self.base)
            try:
                with engine.begin() as connection:
                    for schema in self._schemas:
                        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @contextlib.contextmanager
    def session(self) -> Iterator[Workspace]:
        """This workspace, closed on the way out."""
        try:
            yield self
        finally:
            self.close()
