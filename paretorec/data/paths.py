"""The data files a stored config names, written relative to the file that stores them.

A run's ``config.json`` and an exported ``chosen.json`` keep the ``[data]`` section, and with
it the interaction and item files' paths. Written as the user gave them, an absolute path
carries the machine's folder names (a user name, a project's name) into every file a run
shares. They are written relative to the storing file's folder instead, as the export already
writes its run directory, and read back against that folder. A file stored before this (its
paths relative to the working directory of the day) still reads: a relative path that names
no file next to the stored file but does from the working directory is taken as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PATH_KEYS = ("path", "items")  # the [data] keys that name files


def stored_data(data: Mapping[str, Any], base: str | os.PathLike[str]) -> dict[str, Any]:
    """``data`` (a ``[data]`` mapping) with its file paths relative to the folder ``base``."""
    out = dict(data)
    for key in PATH_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value:
            out[key] = _relative(value, Path(base))
    return out


def read_data(data: Any, base: str | os.PathLike[str]) -> Any:
    """The inverse of ``stored_data``: paths relative to ``base`` as paths to open from here.
    Anything that is not a mapping is returned as it is, for the config's own checks to name."""
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for key in PATH_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            here = Path(base) / value
            if here.exists() or not Path(value).exists():
                out[key] = str(here)
    return out


def stored_config(config: Mapping[str, Any], base: str | os.PathLike[str]) -> dict[str, Any]:
    """A whole config mapping with its ``data`` section's paths as ``stored_data`` writes them."""
    out = dict(config)
    if isinstance(out.get("data"), Mapping):
        out["data"] = stored_data(out["data"], base)
    return out


def read_config(config: Any, base: str | os.PathLike[str]) -> Any:
    """The inverse of ``stored_config``."""
    if isinstance(config, Mapping) and "data" in config:
        return {**config, "data": read_data(config["data"], base)}
    return config


def _relative(target: str, base: Path) -> str:
    try:
        return os.path.relpath(Path(target).resolve(), base.resolve())
    except ValueError:  # another drive (Windows): no relative path exists; keep the name only
        return Path(target).name
