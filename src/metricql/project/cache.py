"""A load's result kept under the project's `target/metricql/`, like dbt's own target files.

Never stale: an entry is keyed by the contents of every file a load can read (all YAML, SQL,
Python, CSV, Markdown and JSON under the project, `target/catalog.json` and `manifest.json`),
by what the caller adds (load arguments, the resolved profile target, library versions), and
by metricql's own source files. Contents, not modification times: an edit that keeps size and
mtime is still seen, and reading ~1 MiB per 100 models costs milliseconds.

Never a hole: entries are pickles, so each is authenticated with a keyed BLAKE2b MAC whose
32-byte secret lives outside the project (`$XDG_CACHE_HOME/metricql/cache.key`, mode 0600).
A file nobody with that secret wrote, or one truncated or corrupt, is never unpickled: it is
a miss, and the load rebuilds it. Written to a temporary file and renamed over the old one,
so concurrent loads never see half a file; a read-only project simply is not cached.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import metricql

DISABLE_ENV = "METRICQL_NO_CACHE"  # set (to anything but "" or "0") to switch the cache off
_MAGIC = b"metricql-cache-1\n"
_DIGEST = 32
_SUFFIXES = frozenset({".yml", ".yaml", ".sql", ".py", ".csv", ".md", ".json", ".jinja"})
_SKIP_ANYWHERE = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__"})
_SKIP_AT_ROOT = frozenset({"target", "logs", "dbt_packages"})  # dbt's outputs and installs
_TARGET_INPUTS = ("catalog.json", "manifest.json")


def enabled() -> bool:
    """False when the environment switches the cache off."""
    return os.environ.get(DISABLE_ENV, "") in ("", "0")


def cache_file(root: Path, arguments: Iterable[object]) -> Path:
    """Where the entry for loading `root` with `arguments` lives (one file per combination)."""
    name = hashlib.blake2b(repr(tuple(arguments)).encode(), digest_size=8).hexdigest()
    return root / "target" / "metricql" / f"load-{name}.pickle"


def fingerprint(root: Path, extra: Iterable[object], secret: bytes) -> bytes:
    """Keyed digest of every input of a load of `root` (see the module docstring)."""
    digest = hashlib.blake2b(key=secret, digest_size=_DIGEST)
    digest.update(repr((str(root), tuple(extra))).encode())
    for path in _inputs(root):
        digest.update(f"\0{path.relative_to(root)}\0".encode())
        digest.update(hashlib.blake2b(path.read_bytes()).digest())
    digest.update(_own_sources())  # a changed metricql never reads an older one's entries
    return digest.digest()


def read(file: Path, key: bytes, secret: bytes) -> Any | None:
    """The payload stored under `key`, or None: missing, stale, corrupt or not ours."""
    try:
        blob = file.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC)
    if blob[:head] != _MAGIC or not hmac.compare_digest(blob[head : head + _DIGEST], key):
        return None
    mac, body = blob[head + _DIGEST : head + 2 * _DIGEST], blob[head + 2 * _DIGEST :]
    if not hmac.compare_digest(mac, _mac(secret, key, body)):
        return None  # not written with our secret (or damaged): never unpickled
    try:
        return pickle.loads(body)  # authenticated above: our own bytes
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None  # written by an incompatible build of our own classes


def write(file: Path, key: bytes, secret: bytes, payload: Any) -> bool:
    """Store `payload` under `key`; False (and nothing written) when the folder is read-only
    or the payload cannot be pickled."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-", suffix=".pickle")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC + key + bytes(_DIGEST))  # the MAC, once the body is written
            signing = _Signing(out, hashlib.blake2b(key, key=secret, digest_size=_DIGEST))
            # Streamed: the body (100 MiB at 10,000 models) is never one bytes object.
            pickle.dump(payload, signing, protocol=pickle.HIGHEST_PROTOCOL)
            out.seek(len(_MAGIC) + len(key))
            out.write(signing.mac.digest())
        os.replace(temp, file)  # atomic: readers see the old file or the new one
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        Path(temp).unlink(missing_ok=True)
        return False
    return True


class _Signing:
    """A file that MACs what is written to it."""

    def __init__(self, out: Any, mac: Any) -> None:
        self._out = out
        self.mac = mac

    def write(self, data: Any) -> int:
        self.mac.update(data)
        return int(self._out.write(data))


def secret_key() -> bytes | None:
    """This user's cache secret, made on first use; None when it cannot be kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    file = Path(base) / "metricql" / "cache.key"
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _existing_key(file)
    except OSError:
        return None
    key = secrets.token_bytes(_DIGEST)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _existing_key(file: Path) -> bytes | None:
    try:
        key = file.read_bytes()
        mode = file.stat().st_mode
    except OSError:
        return None
    # Another process may be writing it this instant (short read): no cache this time.
    # One others can read or write is no secret: do not trust entries made with it.
    return key if len(key) == _DIGEST and not mode & 0o077 else None


def _mac(secret: bytes, key: bytes, body: bytes) -> bytes:
    mac = hashlib.blake2b(key, key=secret, digest_size=_DIGEST)
    mac.update(body)  # as `write` computes it, without copying the body
    return mac.digest()


def _inputs(root: Path) -> list[Path]:
    """Every file under `root` a load may read, in a stable order."""
    found = [root / "target" / name for name in _TARGET_INPUTS]
    found = [p for p in found if p.is_file()]
    found += sorted(_walk(root, top=True))
    return found


def _walk(folder: Path, *, top: bool, seen: set[str] | None = None) -> Iterator[Path]:
    """Files with a suffix a load reads; symlinked folders followed (model-paths may be
    links), each real folder once."""
    seen = set() if seen is None else seen
    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                if entry.name in _SKIP_ANYWHERE or (top and entry.name in _SKIP_AT_ROOT):
                    continue
                yield from _walk(Path(entry.path), top=False, seen=seen)
            elif os.path.splitext(entry.name)[1] in _SUFFIXES and entry.is_file():
                yield Path(entry.path)


@functools.cache
def _own_sources() -> bytes:
    """metricql's source files as of import (name, size, mtime): the code now running."""
    package = Path(metricql.__file__).parent
    stats = ((p.relative_to(package), p.stat()) for p in sorted(package.rglob("*.py")))
    return repr([(str(p), s.st_size, s.st_mtime_ns) for p, s in stats]).encode()
