"""The ecrs-book checkout a run works in: where ``params/``, the notebooks and the git commit come from.

Everything a run records must come from the same checkout, so the root is found from the
current folder (the checkout the user is in), never from where the package is installed:
an editable install of another checkout would otherwise lend its ``params/`` to this one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CheckoutError", "checkout_root"]

MARKERS = ("_config.yml", "params")


class CheckoutError(RuntimeError):
    """No ecrs-book checkout at or above the folder a command runs in."""


def checkout_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the current folder) holding ``_config.yml`` and ``params/``.

    Raises
    ------
    CheckoutError
        When no folder up to the file-system root has both; the message says where it looked.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "params").is_dir():
            return folder
    raise CheckoutError(f"{here} is not inside an ecrs-book checkout (no folder at or above it holds _config.yml and params/); cd into the checkout first")
