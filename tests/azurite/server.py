"""Azurite (Azure Blob's emulator, from npm) on 127.0.0.1 for the session; its access log counts requests."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pytest
from remote_store import RemoteContainer

# Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d+)')


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # /account/container/blob?query

    @property
    def container(self) -> str:
        return self.path.split("?")[0].split("/")[2] if self.path.count("/") >= 2 else ""

    @property
    def is_download(self) -> bool:
        """A GET of one blob's bytes (not a listing or a container call)."""
        path, _, query = self.path.partition("?")
        return self.method == "GET" and path.count("/") >= 3 and "comp=" not in query and "restype=" not in query


class Azurite:
    """`azurite-blob` as a child process on a free port, data in a temp folder, access log to a file."""

    def __init__(self, folder: str):
        binary = shutil.which("azurite-blob")
        if binary is None:
            raise RuntimeError("azurite-blob not found: install it with `npm install -g azurite` (.ci/run does)")
        self.port = _free_port()
        self.log_path = os.path.join(folder, "access.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", folder,
             "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"azurite did not start: {open(self.log_path).read()[-500:]}")

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.endpoint};")

    def requests(self, container: str) -> list[Request]:
        """Every request naming `container` so far (azurite writes its log lazily: a marker request
        is sent and waited for, so nothing made before this call is missing)."""
        marker = f"sync-{uuid.uuid4().hex[:12]}"
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.endpoint}/{marker}?restype=container", timeout=10)
        deadline = time.monotonic() + 10
        while True:
            with open(self.log_path) as handle:
                found = [Request(m["method"], m["path"]) for m in map(_LINE.search, handle) if m]
            if any(r.container == marker for r in found) or time.monotonic() > deadline:
                return [r for r in found if r.container == container]
            time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@dataclass
class Container(RemoteContainer):
    scheme = "az"
    server: Azurite

    @property
    def env(self) -> dict[str, str]:
        return {"AZURE_STORAGE_CONNECTION_STRING": self.server.connection_string}

    def requests(self) -> list[Request]:
        return self.server.requests(self.name)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    server = Azurite(str(tmp_path_factory.mktemp("azurite")))
    yield server
    server.stop()


@pytest.fixture
def container(azurite) -> Container:
    import adlfs

    fs = adlfs.AzureBlobFileSystem(connection_string=azurite.connection_string, skip_instance_cache=True)
    name = f"dm-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    return Container(azurite, name, fs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
