"""A real ``auditor serve`` process for reliability tests: start, wait until ready, kill."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from checks.zone_server import free_port


class ServerProcess:
    """``auditor serve`` on a free loopback port with the given instance folder and database."""

    def __init__(self, instance: Path, db_url: str, *, workers: int = 1, threads: int = 8,
                 env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(instance), "AUDITOR_DATABASE_URL": db_url,
                    "AUDITOR_PUBLIC_URL": self.base,
                    # a load generator is one client address: request limits would cap what is measured
                    "AUDITOR_RATELIMIT_ENABLED": "false", **(env or {})}
        self.log = log or instance / "server.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start and wait for /readyz."""
        fh = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "serve", "--port", str(self.port), "--threads", str(self.threads),
             "--workers", str(self.workers)],
            env=self.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (OSError, http.client.HTTPException):
                # not listening yet; polling a free port before the server binds it can even connect
                # the client to itself (TCP self-connect): it then reads its own request line back
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole process group (gunicorn workers too): no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
