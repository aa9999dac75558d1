"""Throwaway PostgreSQL servers for the tests: initdb, start, stop, streaming replicas.

Each server is a fresh cluster in a temporary directory, listening on
127.0.0.1 on a free port above 55000, with ``fsync=off`` (the tests never
survive a machine crash, and it makes initdb and commits fast). PostgreSQL
refuses to run as root, so when the tests run as root the cluster belongs to
the ``postgres`` user (Debian's ``postgresql-15`` package creates it) and the
server commands run through ``runuser``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PORT_RANGE = (55000, 64000)
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
    "max_connections": "50",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "logging_collector": "off",
}


def bin_dir() -> Path | None:
    """The PostgreSQL server programs (initdb, pg_ctl, ...), newest version first."""
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: -int(p.parent.name)):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def skip_reason() -> str | None:
    if bin_dir() is None:
        return "PostgreSQL server programs not found (Debian: apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'hoidap[postgres]')"
    return None


def need_postgres() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


def running_server() -> Iterator[PgServer]:
    """A fresh server for a module's fixture (``yield from running_server()``), removed after."""
    need_postgres()
    server = PgServer.init().start()
    try:
        yield server
    finally:
        server.remove()


def free_port() -> int:
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port above 55000")


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str]) -> None:
    subprocess.run(_as_owner(cmd), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   cwd="/tmp")


def _new_dir() -> Path:
    """A directory in /tmp for a cluster: pytest's tmp_path is private to root, which the
    ``postgres`` user could not enter."""
    root = Path(tempfile.mkdtemp(prefix="hoidap-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    return root


@dataclass
class PgServer:
    """One local PostgreSQL server (a primary or a streaming standby)."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def db_url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def _configure(self, extra: dict[str, str] | None = None) -> None:
        conf = dict(SETTINGS, **(extra or {}), port=str(self.port), unix_socket_directories=f"'{self.data}'")
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as f:
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())

    @classmethod
    def init(cls, settings: dict[str, str] | None = None) -> PgServer:
        """A new cluster (not started): trust authentication, only reachable on 127.0.0.1;
        ``settings`` override SETTINGS."""
        bindir = bin_dir()
        assert bindir is not None
        root = _new_dir()
        server = cls(root / "data", free_port())
        _run([str(bindir / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust",
              "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        server._configure(settings)
        return server

    def start(self) -> PgServer:
        bindir = bin_dir()
        assert bindir is not None
        _run([str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"),
              "-w", "-t", "60", "start"])
        return self

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop("immediate")
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def stop(self, mode: str = "fast") -> None:
        bindir = bin_dir()
        assert bindir is not None
        if (self.data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                                      "stop"]), check=False, capture_output=True, cwd="/tmp")

    def standby(self) -> PgServer:
        """A streaming replica of this (running) server, not started, on its own port."""
        bindir = bin_dir()
        assert bindir is not None
        root = _new_dir()
        replica = PgServer(root / "data", free_port())
        _run([str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
              "-D", str(replica.data), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"])
        replica._configure()
        return replica

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.db_url(name)

    def wait_replayed(self, standby: PgServer, timeout: float = 30.0) -> None:
        """Wait until ``standby`` has replayed everything this primary has written."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as p:
            lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout
        with psycopg.connect(standby.url, autocommit=True) as s:
            while time.monotonic() < deadline:
                row = s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()
                if row and row[0]:
                    return
                time.sleep(0.05)
        raise TimeoutError("the standby did not catch up")
