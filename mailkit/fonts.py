"""Finding a TrueType font with Polish letters for generated PDFs (DejaVu Sans by default)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

from .errors import ConfigError
from .i18n import _

__all__ = ["FONT_ENV", "find_font"]

FONT_ENV = "MAILKIT_FONT"
_FONT_FILE = "DejaVuSans.ttf"  # Debian/Ubuntu: fonts-dejavu-core; Fedora: dejavu-sans-fonts
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)


def _candidates() -> Iterable[Path]:
    env = os.environ.get(FONT_ENV)
    if env:
        yield Path(env).expanduser()
    prefix = os.environ.get("CONDA_PREFIX")
    dirs = [*_FONT_DIRS, *([f"{prefix}/fonts", f"{prefix}/share/fonts"] if prefix else [])]
    for folder in dirs:
        yield Path(folder).expanduser() / _FONT_FILE
    spec = importlib.util.find_spec("matplotlib")  # ships DejaVu Sans; found without importing it
    if spec is not None and spec.origin:
        yield Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / _FONT_FILE


def find_font(configured: Path | None = None) -> Path:
    """The TTF to draw with: the job's ``font``, then $MAILKIT_FONT, then known places."""
    if configured is not None:
        if not configured.is_file():
            raise ConfigError(
                _("attachments.font: there is no font file {path}").format(path=configured),
                setting="attachments.font",
            )
        return configured
    for path in _candidates():
        if path.is_file():
            return path
    raise ConfigError(
        _(
            "No font with Polish letters was found for the PDFs. Install DejaVu Sans "
            "(Debian/Ubuntu: apt-get install fonts-dejavu-core) or name a .ttf file in "
            "[attachments] font = ... or in the {env} environment variable."
        ).format(env=FONT_ENV),
        setting="attachments.font",
    )
