"""Weight files: where they are cached, their SHA-256 checks, and fetching them safely.

The cache folder is ``$ARTIFEX_CACHE`` when set, else ``~/.cache/artifex``. Nothing here
downloads anything unless :func:`fetch_weights` is called.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "PYTORCH_FID_WEIGHTS",
    "PYTORCH_FID_WEIGHTS_SHA256",
    "PYTORCH_FID_WEIGHTS_URL",
    "cache_dir",
    "check_sha256",
    "converted_inception_name",
    "fetch_weights",
    "file_sha256",
    "inception_weights_path",
    "missing_inception_weights_message",
]

PYTORCH_FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"
"""The file name pytorch-fid publishes its FID Inception weights under."""

PYTORCH_FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PYTORCH_FID_WEIGHTS
)
"""Where pytorch-fid (and clean-fid's ``legacy_pytorch`` mode) download those weights from."""

# The full SHA-256 of pytorch-fid's file (95,628,359 bytes). pytorch-fid's URL carries only its
# first 8 hex digits (torch.hub checks that prefix); the full value is the one torch-fidelity
# and other FID tools pin for the same file, and it starts with that prefix as it must.
PYTORCH_FID_WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
"""SHA-256 of :data:`PYTORCH_FID_WEIGHTS`."""

CACHE_ENV = "ARTIFEX_CACHE"
_CHUNK = 1 << 20
# A prefix shorter than this would let a different file through too easily.
_MIN_PREFIX = 8


def cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder converted and fetched weights live in (not created here).

    Args:
        cache_dir: An explicit folder; else ``$ARTIFEX_CACHE``, else ``~/.cache/artifex``.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "artifex"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _normalized(expected: str) -> str:
    hex_digits = expected.strip().lower()
    if (
        len(hex_digits) < _MIN_PREFIX
        or len(hex_digits) > 64
        or any(c not in "0123456789abcdef" for c in hex_digits)
    ):
        raise ValueError(
            f"a SHA-256 must be {_MIN_PREFIX} to 64 hex digits (a prefix is checked as "
            f"torch.hub does), got {expected!r}"
        )
    return hex_digits


def check_sha256(actual: str, expected: str, what: str) -> None:
    """Refuse ``what`` unless its hash ``actual`` is ``expected`` (64 hex) or starts with it.

    Args:
        actual: The SHA-256 that was computed.
        expected: The full hash, or a prefix of at least 8 hex digits.
        what: How the message names the file.

    Raises:
        ValueError: The hashes differ, or ``expected`` is not hex.
    """
    if not actual.startswith(_normalized(expected)):
        raise ValueError(
            f"{what}: SHA-256 expected {expected.strip().lower()}, got {actual}. The file is "
            "another one or damaged; download it again, or pass sha256=<its hash> "
            "(--sha256 HEX) if it is your own copy that you trust"
        )


@contextlib.contextmanager
def _temporary_file_in(folder: Path, name: str) -> Iterator[tuple[Path, int]]:
    # In the target folder so os.replace is an atomic rename; removed unless renamed away.
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        yield Path(temp), descriptor
    finally:
        with contextlib.suppress(OSError):
            os.close(descriptor)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it there.

    A reader never sees a half-written ``path``; on any error nothing is left behind.
    """
    with _temporary_file_in(path.parent, path.name) as (temp, descriptor):
        with os.fdopen(descriptor, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)


def fetch_weights(
    url: str,
    *,
    sha256: str,
    cache_dir: str | os.PathLike[str] | None = None,
    filename: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` into the cache, checked against ``sha256``; the cached path.

    The download streams into a temporary file in the cache folder, hashing as it goes; only a
    complete file with the right hash is renamed to its name (atomically). A file already
    there with the right hash is returned without downloading.

    Args:
        url: Where the file is (``http(s)://`` or ``file://``).
        sha256: Its SHA-256: 64 hex digits, or a prefix of at least 8 (checked as torch.hub
            checks the prefix in a file name).
        cache_dir: The folder; else ``$ARTIFEX_CACHE``, else ``~/.cache/artifex``.
        filename: The name in the folder; else the last part of the URL's path.
        timeout: Seconds to wait for the server at each step (connect, each read).

    Returns:
        The path of the verified file.

    Raises:
        ConnectionError: The server cannot be reached, answers with an error, or the
            connection ends before the announced length; nothing is left behind.
        ValueError: The downloaded bytes have another SHA-256; nothing is left behind.
    """
    expected = _normalized(sha256)
    name = filename or Path(urllib.parse.urlparse(url).path).name
    if not name or name in (".", ".."):
        raise ValueError(f"cannot name the file of {url!r}: pass filename=")
    target = _cache(cache_dir) / name
    if target.is_file() and file_sha256(target).startswith(expected):
        return target
    digest = hashlib.sha256()
    received = 0
    with _temporary_file_in(target.parent, name) as (temp, descriptor):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                announced = response.headers.get("Content-Length")
                with os.fdopen(descriptor, "wb") as stream:
                    while chunk := response.read(_CHUNK):
                        stream.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
        except urllib.error.HTTPError as error:
            raise ConnectionError(
                f"downloading {url} failed: the server answered {error.code} {error.reason}; "
                "check the URL, or download the file another way and convert it"
            ) from None
        except http.client.IncompleteRead as error:
            raise ConnectionError(
                f"downloading {url} stopped early: got {received + len(error.partial)} "
                f"bytes of {announced}; nothing was kept, try again"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionError(
                f"could not download {url}: {reason}. Check the network (or download the "
                "file on a machine with internet and copy it here)"
            ) from None
        if announced is not None and announced.isdigit() and received != int(announced):
            raise ConnectionError(
                f"downloading {url} stopped early: got {received} bytes of {announced}; "
                "nothing was kept, try again"
            )
        check_sha256(digest.hexdigest(), expected, f"{url} (downloaded, not kept)")
        os.replace(temp, target)
    return target


def converted_inception_name(source_sha256: str) -> str:
    """The cache name of the ``.npz`` converted from a ``.pth`` with this SHA-256.

    The standard weights get pytorch-fid's name with ``.npz``; any other file (a user's own
    copy, accepted with an explicit hash) is named by its hash, so it never passes for the
    standard extractor that published FIDs use.
    """
    if source_sha256 == PYTORCH_FID_WEIGHTS_SHA256:
        return Path(PYTORCH_FID_WEIGHTS).stem + ".npz"
    return f"inception-{source_sha256[:16]}.npz"


def inception_weights_path(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the converted standard FID Inception weights are (or will be) in the cache."""
    return _cache(cache_dir) / converted_inception_name(PYTORCH_FID_WEIGHTS_SHA256)


def missing_inception_weights_message(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """What to run when the converted weights are not in the cache, commands included."""
    where = inception_weights_path(cache_dir)
    module = "artifex.generative_models.core.evaluation.metrics"
    folder = "" if cache_dir is None else f", cache_dir={os.fspath(cache_dir)!r}"
    return (
        f"the FID Inception weights are not converted yet: {where} does not exist.\n"
        "With internet on this machine, fetch and convert them (95 MB, SHA-256 checked):\n"
        f'    python -c "from {module} import fetch_inception_weights; '
        f'print(fetch_inception_weights({folder.lstrip(", ")}))"\n'
        "Or download pytorch-fid's file elsewhere and convert it here (no PyTorch needed):\n"
        f"    curl -L -o {PYTORCH_FID_WEIGHTS} {PYTORCH_FID_WEIGHTS_URL}\n"
        f"    artifex-metrics convert-inception {PYTORCH_FID_WEIGHTS}\n"
        f'(the same as: python -c "from {module} import convert_inception_weights; '
        f"print(convert_inception_weights('{PYTORCH_FID_WEIGHTS}'{folder}))\")"
    )


def _cache(folder: str | os.PathLike[str] | None) -> Path:
    return cache_dir(folder)
