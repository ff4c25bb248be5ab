"""`+local` steps: remote inputs staged to local temp files, outputs written locally (published by storage on success)."""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Sequence

from datamake.store.storage import Storage
from datamake.model import is_url


class Staging:
    """Local stand-ins for one step's remote inputs and outputs, in a private temp directory.

    Use: `stage = Staging.prepare(inputs, outputs, storage)`; run the step on `stage.local(name)`;
    after success `storage.publish(stage.outputs[url], url)` uploads each output atomically;
    `stage.cleanup()` always.
    """

    def __init__(self, root: str):
        self.root = root
        self.inputs: dict[str, str] = {}  # remote name -> local copy
        self.outputs: dict[str, str] = {}  # remote name -> local file the step writes

    @classmethod
    def prepare(cls, inputs: Sequence[str], outputs: Sequence[str], storage: Storage,
                tmpdir: str | None = None) -> "Staging":
        """Download the existing remote `inputs` through `storage`; choose local paths for the remote `outputs`."""
        stage = cls(tempfile.mkdtemp(prefix="datamake-stage-", dir=tmpdir))
        try:
            for i, name in enumerate(n for n in inputs if is_url(n)):
                stage.inputs[name] = stage._slot("in", i, name)
                _download(storage, name, stage.inputs[name])
            for i, name in enumerate(n for n in outputs if is_url(n)):
                stage.outputs[name] = stage._slot("out", i, name)
        except BaseException:
            stage.cleanup()
            raise
        return stage

    def _slot(self, kind: str, index: int, name: str) -> str:
        """A local path keeping the remote base name, so tools that look at extensions still work."""
        folder = os.path.join(self.root, kind, str(index))
        os.makedirs(folder)
        return os.path.join(folder, name.rstrip("/").rpartition("/")[2] or "data")

    def local(self, name: str) -> str:
        """The local path a step should use for `name` (itself when not remote)."""
        return self.inputs.get(name) or self.outputs.get(name) or name

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _download(storage: Storage, url: str, path: str) -> None:
    stamp = storage.stat(url)
    if stamp is None:
        return  # an optional input: the step sees a name that does not exist
    fs, rpath = storage.filesystem(url)
    with storage.guard(url):
        if not stamp.is_dir:
            fs.get_file(rpath, path)
            return
        for name in fs.find(rpath):
            local = os.path.join(path, *name[len(rpath):].strip("/").split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            fs.get_file(name, local)

