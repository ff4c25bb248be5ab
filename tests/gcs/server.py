"""A GCS emulator (gcp-storage-emulator, pure Python) on 127.0.0.1 in a thread, counting requests."""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass

import pytest
from remote_store import RemoteContainer

# gcsfs asks a gRPC control API for each bucket's type unless told not to; an emulator has none.
ENV = {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
os.environ.update(ENV)  # gcsfs reads it once, when first imported


class Counter(logging.Handler):
    """Collects the emulator's one log line per request: `"GET /storage/v1/b/B/o HTTP/1.1" 200 -`."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []
        self.mutex = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith('"'):
            with self.mutex:
                self.lines.append(text)


class GcsEmulator:
    def __init__(self):
        from gcp_storage_emulator.server import create_server

        self.port = _free_port()
        self.server = create_server("127.0.0.1", self.port, in_memory=True)
        self.counter = Counter()
        log = logging.getLogger("gcp_storage_emulator")
        log.setLevel(logging.INFO)
        log.propagate = False  # a line per request would drown the test output
        log.addHandler(self.counter)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server.start()

    def requests(self, bucket: str) -> list[str]:
        """`METHOD PATH` of each request naming `bucket`."""
        with self.counter.mutex:
            lines = list(self.counter.lines)
        found = [" ".join(line.strip('"').split()[:2]) for line in lines]
        return [r for r in found if f"/b/{bucket}/" in r or r.endswith(f"/b/{bucket}") or f"/{bucket}/" in r]

    def stop(self) -> None:
        self.server.stop()
        logging.getLogger("gcp_storage_emulator").removeHandler(self.counter)


@dataclass
class Bucket(RemoteContainer):
    scheme = "gs"
    server: GcsEmulator

    @property
    def env(self) -> dict[str, str]:
        return {**ENV, "STORAGE_EMULATOR_HOST": self.server.endpoint}

    def requests(self) -> list[str]:
        return self.server.requests(self.name)

    def downloads(self) -> list[str]:
        return [r for r in self.requests() if "alt=media" in r or r.split()[1].startswith("/download/")]


@pytest.fixture(scope="session")
def gcs_emulator():
    server = GcsEmulator()
    yield server
    server.stop()


@pytest.fixture
def gcs_bucket(gcs_emulator) -> Bucket:
    import gcsfs

    fs = gcsfs.GCSFileSystem(endpoint_url=gcs_emulator.endpoint, token="anon", project="test",
                             skip_instance_cache=True)
    name = f"dm-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    return Bucket(gcs_emulator, name, fs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
