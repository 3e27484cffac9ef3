"""Where dataset files come from: an explicit data dir, the user cache, or a checksummed download.

Order: ``--data-dir`` (or ``$PARETOREC_DATA_DIR``) -> the user cache -> a download from the
publisher into the user cache, verified file by file against known sha256 sums.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from paretorec.errors import DataError

ENV_VAR = "PARETOREC_DATA_DIR"


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset published as a zip archive whose members we know by checksum.

    Attributes:
        name: Folder name inside a data dir, e.g. ``ml-100k``.
        url: Where the zip can be downloaded.
        files: Member file name -> expected sha256 hex digest.
    """

    name: str
    url: str
    files: dict[str, str]


def cache_dir() -> Path:
    """The per-user cache the downloads go to."""
    return Path(platformdirs.user_cache_dir("paretorec"))


def configured_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The explicit data dir: the argument if given, else ``$PARETOREC_DATA_DIR``, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(folder: Path, remote: RemoteDataset) -> bool:
    """True when every file is present and matches; a present file that mismatches is an error."""
    if not all((folder / name).is_file() for name in remote.files):
        return False
    for name, expected in remote.files.items():
        actual = sha256_file(folder / name)
        if actual != expected:
            raise DataError(
                f"{folder / name}: sha256 {actual[:12]}... does not match the published "
                f"{expected[:12]}...; replace the file with the original {remote.name} release "
                "(delete it from the cache to download it again)"
            )
    return True


def _download(remote: RemoteDataset, target: Path) -> None:
    """Fetch the zip and extract the known members into ``target`` after checking each sum."""
    with urllib.request.urlopen(remote.url, timeout=60) as response:
        payload = response.read()
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        members = {Path(m).name: m for m in archive.namelist() if Path(m).name in remote.files}
        missing = sorted(set(remote.files) - set(members))
        if missing:
            raise DataError(f"{remote.url}: archive lacks {', '.join(missing)}")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, member in members.items():
            data = archive.read(member)
            actual = hashlib.sha256(data).hexdigest()
            if actual != remote.files[name]:
                shutil.rmtree(staging, ignore_errors=True)
                raise DataError(
                    f"{remote.url}: {name} has sha256 {actual[:12]}..., expected "
                    f"{remote.files[name][:12]}...; the download is corrupt or not the original"
                )
            (staging / name).write_bytes(data)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def locate(remote: RemoteDataset, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding ``remote``'s verified files, downloading them if needed and possible.

    Args:
        remote: The dataset's name, download address and checksums.
        data_dir: An explicit data dir (overrides ``$PARETOREC_DATA_DIR``).

    Returns:
        A folder containing every file in ``remote.files``.

    Raises:
        DataError: Nothing found and the download failed; the message names all three ways.
    """
    explicit = configured_dir(data_dir)
    if explicit is not None and _verified(explicit / remote.name, remote):
        return explicit / remote.name
    cached = cache_dir() / remote.name
    if _verified(cached, remote):
        return cached
    try:
        _download(remote, cached)
    except (urllib.error.URLError, OSError, TimeoutError, zipfile.BadZipFile) as exc:
        where = f"{explicit / remote.name}, " if explicit is not None else ""
        raise DataError(
            f"dataset {remote.name} not found (looked in {where}{cached}) and the download "
            f"from {remote.url} failed ({type(exc).__name__}: {exc}); pass --data-dir DIR or "
            f"set {ENV_VAR}=DIR where DIR/{remote.name}/ holds {', '.join(remote.files)}, "
            f"or put those files in {cached}, or connect to the internet to download them"
        ) from None
    return cached
