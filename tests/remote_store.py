"""What the test fixtures for each emulated store share: a container's URLs, writes and reads through fsspec."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass
class RemoteContainer:
    """A bucket or container on an emulator, with the fsspec client the test writes and reads through."""

    scheme: ClassVar[str]
    server: object
    name: str
    fs: object

    def url(self, key: str) -> str:
        return f"{self.scheme}://{self.name}/{key}"

    def put(self, key: str, data: str) -> None:
        self.fs.pipe_file(f"{self.name}/{key}", data.encode())
        self.fs.invalidate_cache()

    def read(self, key: str) -> str:
        self.fs.invalidate_cache()
        return self.fs.cat_file(f"{self.name}/{key}").decode()
