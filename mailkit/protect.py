"""Password protection: PDFs encrypted by pikepdf (AES-256, R=6), other files in pyzipper AES ZIPs.

Every protected file is opened again before it may be queued: it must refuse no password and the
empty one, open with the row's password, and use the strong method (R=6/256-bit or WZ_AES 256).
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Sequence

import pikepdf
import pyzipper

from .errors import ProtectionError
from .i18n import N_, _

__all__ = [
    "PDF_AES256",
    "ZIP_AES256",
    "encrypt_pdf",
    "is_pdf",
    "verify_pdf",
    "verify_zip",
    "zip_files",
]

# What Attachment.protection says (and preview shows) for each method.
PDF_AES256 = N_("PDF AES-256")
ZIP_AES256 = N_("ZIP AES-256")

_WZ_AES_256 = 3  # WinZip AE-x strength byte: 1 = 128, 2 = 192, 3 = 256 bits


def is_pdf(data: bytes) -> bool:
    """True when ``data`` is a PDF (its header may follow a little junk, as readers allow)."""
    return b"%PDF-" in data[:1024]


def encrypt_pdf(data: bytes, password: str) -> bytes:
    """``data`` encrypted with AES-256 (R=6) for ``password``, with a random owner password.

    pikepdf's default owner password is empty, and an empty owner password opens the file with
    full rights for anyone, so it is always a fresh random one that differs from ``password``.
    """
    owner = secrets.token_urlsafe(24)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            out = io.BytesIO()
            pdf.save(out, encryption=pikepdf.Encryption(user=password, owner=owner, R=6))
    except pikepdf.PasswordError as err:
        raise ProtectionError(
            _("the PDF is already password-protected; attach the unprotected original")
        ) from err
    except pikepdf.PdfError as err:
        raise ProtectionError(_("the PDF cannot be read: {reason}").format(reason=err)) from err
    return out.getvalue()


def verify_pdf(data: bytes, password: str) -> None:
    """ProtectionError unless ``data`` is R=6 AES-256, refuses '' and opens with ``password``.

    qpdf tries a missing password as the empty one (as user and as owner password), so the one
    failed attempt with '' shows that neither no password nor an empty one opens the file.
    """
    try:
        pikepdf.open(io.BytesIO(data), password="").close()
    except pikepdf.PasswordError:
        pass
    else:
        raise ProtectionError(_("the protected PDF opens without a password"))
    try:
        with pikepdf.open(io.BytesIO(data), password=password) as pdf:
            enc = pdf.encryption
            strong = pdf.is_encrypted and enc.R == 6 and enc.bits == 256
            owner_differs = not pdf.owner_password_matched
            pages = len(pdf.pages)
    except pikepdf.PasswordError as err:
        raise ProtectionError(_("the protected PDF does not open with its password")) from err
    except pikepdf.PdfError as err:
        raise ProtectionError(
            _("the protected PDF is damaged: {reason}").format(reason=err)
        ) from err
    if not strong:
        raise ProtectionError(_("the PDF is not encrypted with AES-256 (R=6)"))
    if not owner_differs:
        raise ProtectionError(_("the PDF's owner password equals its user password"))
    if pages < 1:
        raise ProtectionError(_("the protected PDF has no pages"))


def zip_files(files: Sequence[tuple[str, bytes]], password: str) -> bytes:
    """A WinZip AES-256 ZIP of ``(member name, content)``; member names are not encrypted."""
    out = io.BytesIO()
    with pyzipper.AESZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files:
            archive.writestr(name, content)
    return out.getvalue()


def verify_zip(data: bytes, password: str, files: Sequence[tuple[str, bytes]]) -> None:
    """ProtectionError unless every member is AES-256, refuses no or an empty password and reads
    back, with ``password``, exactly as ``files``."""
    expected = dict(files)
    try:
        with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if sorted(i.filename for i in infos) != sorted(expected):
                raise ProtectionError(_("the ZIP does not hold the expected files"))
            for info in infos:
                _check_member(archive, info, password, expected[info.filename])
    except (zipfile.BadZipFile, OSError) as err:
        raise ProtectionError(
            _("the protected ZIP is damaged: {reason}").format(reason=err)
        ) from err


def _check_member(
    archive: pyzipper.AESZipFile, info: object, password: str, content: bytes
) -> None:
    name = getattr(info, "filename", "")
    if getattr(info, "wz_aes_strength", None) != _WZ_AES_256:
        raise ProtectionError(_("{name} in the ZIP is not AES-256 encrypted").format(name=name))
    for wrong in (None, b""):
        try:
            archive.read(name, pwd=wrong)
        except RuntimeError:
            continue
        raise ProtectionError(_("{name} in the ZIP opens without a password").format(name=name))
    try:
        ok = archive.read(name, pwd=password.encode("utf-8")) == content
    except (RuntimeError, zipfile.BadZipFile) as err:
        raise ProtectionError(
            _("{name} in the ZIP does not open with its password").format(name=name)
        ) from err
    if not ok:
        raise ProtectionError(_("{name} in the ZIP differs from the original").format(name=name))
