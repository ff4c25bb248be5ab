"""Start moto's S3 server on 127.0.0.1 behind a counting WSGI layer, and fixtures that use it."""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest

# Dummy credentials: moto accepts any, and boto refuses to sign without some.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-xyz",
               "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]

    @property
    def is_get_object(self) -> bool:
        """A GET of one object's bytes (not a listing, not a bucket call)."""
        bucket, _, key = self.path.lstrip("/").partition("/")
        return self.method == "GET" and bool(key) and "list-type" not in self.query and "prefix" not in self.query


@dataclass
class CountingApp:
    """WSGI middleware that records every request before moto answers it."""

    app: object
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        req = Request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                      parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        with self.lock:
            self.log.append(req)
        return self.app(environ, start_response)


class S3Server:
    """moto's backend app served by werkzeug on 127.0.0.1 and a free port, in a thread."""

    def __init__(self):
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns test output
        self.app = CountingApp(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", _free_port(), self.app, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "S3Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: from now on connections are refused, as with a store that went away."""
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()

    def requests(self, bucket: str) -> list[Request]:
        with self.app.lock:
            return [r for r in self.app.log if r.path.lstrip("/").partition("/")[0] == bucket]

    def get_objects(self, bucket: str) -> list[str]:
        """Keys whose bytes were downloaded from `bucket` so far."""
        return [r.path.lstrip("/").partition("/")[2] for r in self.requests(bucket) if r.is_get_object]


class S3Process:
    """moto's server in a process of its own: a store with its own objects (servers in one process share theirs)."""

    def __init__(self):
        port = _free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not _listening(port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto's server did not start on port {port}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Bucket:
    """A fresh bucket on the test server, an s3fs client for it, and the env to reach it."""

    server: S3Server
    name: str
    fs: object

    def url(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, data: str | bytes) -> None:
        self.fs.pipe_file(f"{self.name}/{key}", data.encode() if isinstance(data, str) else data)
        self.fs.invalidate_cache()

    def read(self, key: str) -> str:
        self.fs.invalidate_cache()
        return self.fs.cat_file(f"{self.name}/{key}").decode()

    def keys(self) -> list[str]:
        self.fs.invalidate_cache()
        return sorted(k.partition("/")[2] for k in self.fs.find(self.name))

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.server.endpoint}

    def get_objects(self) -> list[str]:
        return self.server.get_objects(self.name)


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch) -> Bucket:
    """A new empty bucket; the process env points boto and datamake at the test server."""
    import s3fs

    for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_server.endpoint}.items():
        monkeypatch.setenv(key, value)
    fs = s3fs.S3FileSystem(endpoint_url=s3_server.endpoint, key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)
    name = f"dm-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    yield Bucket(s3_server, name, fs)
    fs.rm(name, recursive=True)
