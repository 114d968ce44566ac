"""Real servers for the migration tests, started once per session on loopback: PostgreSQL 15 (two clusters),
Redis 7 (a 6-node cluster and a single node) and moto's S3 server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "migration-test-pw"


def free_port(below: int = 65536) -> int:
    """A free loopback port; Redis cluster nodes need port + 10000 (their bus port) to be valid too."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < below:
            return port


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


class PostgresCluster:
    """initdb + pg_ctl as the postgres user (pg_ctl refuses root), scram auth so a wrong password is refused."""

    def __init__(self, root: Path, name: str):
        self.port = free_port()
        self.data = root / name
        self.log = root / f"{name}.log"
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._run_as = run_as
        password_file = root / f"{name}.pw"
        password_file.write_text(PASSWORD)
        if run_as:
            shutil.chown(root, "postgres")
            shutil.chown(password_file, "postgres")
        subprocess.run(
            [*run_as, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=scram-sha-256",
             f"--pwfile={password_file}", "--locale=C.UTF-8", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True,
        )
        settings = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        # logical replication (change capture: publication, slot, pgoutput)
        settings += " -c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20"
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", settings, "-w", "start"], check=True, capture_output=True)

    def dsn(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run([*self._run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True)


class RedisNodes:
    """Redis servers; with cluster=True, six nodes joined as 3 primaries with one replica each."""

    def __init__(self, root: Path, count: int, cluster: bool):
        self.ports = [free_port(below=55536) for _ in range(count)]
        self.processes = []
        for port in self.ports:
            directory = root / f"redis-{port}"
            directory.mkdir()
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no"]
            if cluster:
                args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"]
            self.processes.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            for port, process in zip(self.ports, self.processes, strict=False):
                wait_for_port(port, process)
            if cluster:
                subprocess.run(
                    ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", "1", "--cluster-yes"],
                    check=True, capture_output=True,
                )
                self._wait_cluster_ok()
        except BaseException:
            self.stop()  # no fixture will tear down servers whose start-up failed
            raise

    def _wait_cluster_ok(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [subprocess.run(["redis-cli", "-p", str(p), "cluster", "info"], capture_output=True, text=True).stdout for p in self.ports]
            if all("cluster_state:ok" in s for s in states):
                return
            time.sleep(0.1)
        raise RuntimeError("redis cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def scratch_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="migration-servers-"))
    root.chmod(0o755)
    return root
