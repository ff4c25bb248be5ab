"""Storage options: gathered from CLI, config file and environment, routed per protocol, kept out of output."""
from __future__ import annotations

import configparser
import os
from typing import Any, Mapping
from urllib.parse import urlsplit

from datamake.errors import UsageError

# protocol -> fsspec keyword arguments, as `normalize` makes them: what a Storage holds; never printed or stored.
Options = dict[str, dict[str, Any]]

# Protocols that share another's options (s3a:// is Hadoop's spelling of s3://).
_ALIASES = {"s3a": "s3", "hdfs": "webhdfs", "gcs": "gs", "abfs": "az", "abfss": "az"}
_SECRET_WORDS = ("key", "secret", "token", "password", "credential", "sas", "session")
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
CONFIG_NAME = "datamake.cfg"
WEBHDFS_PORT = 9870  # Hadoop 3's namenode HTTP port; Hadoop 2 used 50070


def parse_pairs(pairs: list[str]) -> dict[str, dict[str, str]]:
    """`["s3.endpoint_url=http://h:9000"]` -> `{"s3": {"endpoint_url": "http://h:9000"}}`."""
    out: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        protocol, dot, option = key.strip().partition(".")
        if not (eq and dot and protocol and option):
            # Name only the key: the value may be a secret.
            shown = key.strip() if eq else "without '='"
            raise UsageError(f"bad storage option: {shown} (expected PROTOCOL.KEY=VALUE, "
                             "e.g. s3.endpoint_url=http://127.0.0.1:9000)")
        out.setdefault(protocol, {})[option] = value.strip()
    return out


def config_path(directory: str) -> str:
    """$DATAMAKE_CONFIG, else `datamake.cfg` in `directory` (the workflow's)."""
    return os.environ.get("DATAMAKE_CONFIG") or os.path.join(directory, CONFIG_NAME)


def read_section(directory: str, section: str) -> dict[str, str]:
    """One section of the config file as written (keys keep their case); {} when absent."""
    path = config_path(directory)
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep option case (client_kwargs, ...)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise UsageError(f"{path}: cannot read the [{section}] section: {exc.message.splitlines()[0]}") from None
    return dict(parser.items(section)) if parser.has_section(section) else {}


def read_config(directory: str) -> dict[str, dict[str, str]]:
    """The `[storage]` section of $DATAMAKE_CONFIG, else of `datamake.cfg` in `directory`."""
    items = read_section(directory, "storage")
    try:
        return parse_pairs([f"{k}={v}" for k, v in items.items()])
    except UsageError as err:
        raise UsageError(f"{config_path(directory)}: {err.message}") from None


def gather(cli_pairs: list[str], directory: str) -> dict[str, dict[str, str]]:
    """Config file options overlaid by `--storage-option` ones (the command line wins)."""
    merged = read_config(directory)
    for protocol, opts in parse_pairs(cli_pairs).items():
        merged.setdefault(protocol, {}).update(opts)
    return merged


def normalize(options: Mapping[str, Mapping[str, str]]) -> Options:
    """Options as written, made fsspec's: protocols by their canonical name, values coerced, dotted keys nested."""
    out: Options = {}
    for protocol, opts in options.items():
        target = out.setdefault(_ALIASES.get(protocol, protocol), {})
        for key, value in opts.items():
            _nest(target, key.split("."), _coerce(value))
    return out


def _nest(target: dict, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _coerce(value: str) -> Any:
    """fsspec wants booleans and numbers as such: `anon=false` must not be the truthy "false"."""
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    if value.strip().isdigit():
        return int(value)
    return value


def route(url: str, options: Options) -> tuple[str, dict[str, Any]]:
    """The URL fsspec should open and its keyword arguments, for `url` as written and normalized `options`."""
    scheme = url.partition("://")[0].lower()
    protocol = _ALIASES.get(scheme, scheme)
    opts = _deep_copy(options.get(protocol, {}))
    if protocol == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and "endpoint_url" not in opts:
            opts["endpoint_url"] = endpoint
        url = "s3://" + url.partition("://")[2]
    elif scheme == "hdfs":
        url = _hdfs_to_webhdfs(url, opts.pop("port", WEBHDFS_PORT))
    return url, opts


def _hdfs_to_webhdfs(url: str, port: int) -> str:
    """`hdfs://nn:8020/p` -> `webhdfs://nn:PORT/p`: the URL's port is the RPC one, not HTTP."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise UsageError(f"no namenode in {url} (expected hdfs://HOST[:PORT]/path)")
    return f"webhdfs://{parts.hostname}:{port}{parts.path or '/'}"


def _deep_copy(opts: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in opts.items()}


def redact(text: str, options: Options) -> str:
    """`text` with every secret-looking value of `options` and AWS secret from the environment masked."""
    for secret in _secrets(options):
        text = text.replace(secret, "***")
    return text


def _secrets(options: Options) -> list[str]:
    found = [os.environ[name] for name in _SECRET_ENV if os.environ.get(name)]
    stack = [options]
    while stack:
        for key, value in stack.pop().items():
            if isinstance(value, dict):
                stack.append(value)
            elif isinstance(value, str) and any(w in key.lower() for w in _SECRET_WORDS) and len(value) >= 4:
                found.append(value)
    return sorted(found, key=len, reverse=True)
