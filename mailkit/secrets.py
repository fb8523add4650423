"""Secrets encrypted at rest with Fernet; keys live in 0600 files, environment variables or,
when asked for, the OS keyring."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
from cryptography.fernet import Fernet, InvalidToken

from .config import Secret
from .errors import SecretError
from .i18n import _

__all__ = [
    "GLOBAL_KEY_ENV",
    "GLOBAL_KEY_FILE_ENV",
    "KEY_DIR_ENV",
    "KEY_ENV",
    "KEY_STORE_ENV",
    "Cipher",
    "Keys",
    "create_key_file",
    "default_key_dir",
]

KEY_ENV = "MAILKIT_SECRET_KEY"  # the current user's own key (a Fernet key, base64)
GLOBAL_KEY_ENV = "MAILKIT_GLOBAL_KEY"  # the key of secrets shared by all users
GLOBAL_KEY_FILE_ENV = "MAILKIT_GLOBAL_KEY_FILE"  # where that key is kept, if not the default
KEY_DIR_ENV = "MAILKIT_KEY_DIR"  # the folder of key files (default ~/.config/mailkit/keys)
KEY_STORE_ENV = "MAILKIT_KEY_STORE"  # "keyring": the user's own key in the OS keyring
_KEYRING_SERVICE = "mailkit"

_GLOBAL = ""  # the owner of global (shared) secrets
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]")


def default_key_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$MAILKIT_KEY_DIR``, else ``$XDG_CONFIG_HOME/mailkit/keys`` (``~/.config/...``)."""
    env = os.environ if env is None else env
    if env.get(KEY_DIR_ENV):
        return Path(env[KEY_DIR_ENV]).expanduser()
    config = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(config) / "mailkit" / "keys"


def _fingerprint(key: bytes) -> str:
    """A short public name for a key: tells a wrong key from damaged ciphertext."""
    return hashlib.sha256(b"mailkit-key-id:" + key).hexdigest()[:16]


class Cipher:
    """Fernet bound to one key; ``key_id`` is stored beside each ciphertext."""

    __slots__ = ("_fernet", "key_id", "source")

    def __init__(self, key: bytes, source: str) -> None:
        self._fernet = Fernet(key)
        self.key_id = _fingerprint(key)
        self.source = source

    def __repr__(self) -> str:
        return f"Cipher(key_id={self.key_id!r}, source={self.source!r})"

    def encrypt(self, secret: Secret) -> bytes:
        """The ciphertext of ``secret`` (authenticated, with a timestamp)."""
        return self._fernet.encrypt(secret.reveal().encode("utf-8"))

    def decrypt(self, token: bytes, key_id: str, what: str) -> Secret:
        """The secret inside ``token``; SecretError when this key did not make it."""
        if key_id != self.key_id:
            raise SecretError(
                _(
                    "{what} was saved with another key than the one in {source}. Restore the "
                    "key that was used then, or enter the password again."
                ).format(what=what, source=self.source),
                setting="secret.key",
            )
        try:
            return Secret(self._fernet.decrypt(token).decode("utf-8"))
        except (InvalidToken, UnicodeDecodeError) as err:
            raise SecretError(
                _("{what} is damaged and cannot be decrypted; enter the password again.").format(
                    what=what
                ),
                setting="secret.key",
            ) from err


def _parse_key(raw: bytes, source: str) -> bytes:
    key = raw.strip()
    try:
        if len(base64.urlsafe_b64decode(key)) == 32:
            return key
    except (binascii.Error, ValueError):
        pass
    raise SecretError(
        _("{source} does not hold a mailkit key (32 bytes, URL-safe base64).").format(
            source=source
        ),
        setting="secret.key",
    )


def create_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 0600, folder 0700) unless one exists.

    The key appears whole or not at all (written aside, then hard-linked), so a process racing
    another one reads either no key or the finished one. Returns False when a key was there.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
    except OSError as err:
        raise SecretError(
            _("cannot create the key file {path}: {reason}").format(
                path=path, reason=err.strerror or err
            ),
            setting="secret.key",
        ) from err
    return True


@dataclass(frozen=True)
class _Where:
    env: str
    path: Path
    shared: bool  # a shared key may be group-readable (all senders read it), never world-readable


class Keys:
    """Finds the key for the current user's secrets and for global ones; never makes up a key.

    The current user's key: ``$MAILKIT_SECRET_KEY``, else ``<key dir>/<user>.key``.
    The global key: ``$MAILKIT_GLOBAL_KEY``, else ``$MAILKIT_GLOBAL_KEY_FILE``, else
    ``<key dir>/global.key``. Another user's key is never looked for.
    """

    def __init__(self, user: str, env: Mapping[str, str] | None = None) -> None:
        self.user = user
        source = os.environ if env is None else env
        names = (
            KEY_ENV,
            GLOBAL_KEY_ENV,
            GLOBAL_KEY_FILE_ENV,
            KEY_DIR_ENV,
            KEY_STORE_ENV,
            "XDG_CONFIG_HOME",
        )
        self._env = {name: source[name] for name in names if source.get(name)}
        self._dir = default_key_dir(self._env)

    def _where(self, owner: str) -> _Where:
        if owner == _GLOBAL:
            path = self._env.get(GLOBAL_KEY_FILE_ENV) or str(self._dir / "global.key")
            return _Where(GLOBAL_KEY_ENV, Path(path).expanduser(), shared=True)
        if owner != self.user:
            raise SecretError(
                _("the secrets of user {owner} can be used only by {owner}").format(owner=owner),
                setting="secret.owner",
            )
        name = _SAFE_NAME.sub("_", owner) or "user"
        return _Where(KEY_ENV, self._dir / f"{name}.key", shared=False)

    def _keyring(self, owner: str) -> bool:
        """The user's own key lives in the OS keyring when MAILKIT_KEY_STORE=keyring (shared
        keys stay in files: every sender must read them)."""
        return owner != _GLOBAL and self._env.get(KEY_STORE_ENV, "").lower() == "keyring"

    def describe(self, owner: str) -> str:
        """Where the key of ``owner``'s secrets is looked for, for messages."""
        where = self._where(owner)
        if self._env.get(where.env):
            return _("the environment variable {name}").format(name=where.env)
        if self._keyring(owner):
            return _("the OS keyring (service {service}, user {user})").format(
                service=_KEYRING_SERVICE, user=owner
            )
        return _("the key file {path}").format(path=where.path)

    def cipher(self, owner: str, *, create: bool = False) -> Cipher:
        """The cipher for ``owner`` ('' = global); with ``create`` a missing key file is made."""
        where = self._where(owner)
        value = self._env.get(where.env)
        if value:
            source = _("the environment variable {name}").format(name=where.env)
            return Cipher(_parse_key(value.encode("ascii", "replace"), source), source)
        if self._keyring(owner):
            return _from_keyring(owner, self.describe(owner), create=create)
        if not where.path.exists():
            if not create:
                raise SecretError(
                    _(
                        "no key for saved secrets: {path} does not exist and {name} is not set. "
                        "Restore the key file (mode 0600) or set {name}; without it the saved "
                        "passwords cannot be used and must be entered again."
                    ).format(path=where.path, name=where.env),
                    setting="secret.key",
                )
            create_key_file(where.path)
        return self._read(where)

    def _read(self, where: _Where) -> Cipher:
        source = _("the key file {path}").format(path=where.path)
        try:
            info = where.path.stat()
            raw = where.path.read_bytes()
        except OSError as err:
            raise SecretError(
                _("cannot read {source}: {reason}").format(
                    source=source, reason=err.strerror or err
                ),
                setting="secret.key",
            ) from err
        open_to = stat.S_IRWXO if where.shared else (stat.S_IRWXG | stat.S_IRWXO)
        if info.st_mode & open_to:
            mode = "0640" if where.shared else "0600"
            raise SecretError(
                _("{source} can be read by other users; run: chmod {mode} {path}").format(
                    source=source, mode=mode, path=where.path
                ),
                setting="secret.key",
            )
        return Cipher(_parse_key(raw, source), source)


def _from_keyring(user: str, source: str, *, create: bool) -> Cipher:
    """The user's key from the OS keyring; a new one is stored there when ``create``."""
    try:
        stored = keyring.get_password(_KEYRING_SERVICE, user)
        if stored is None and create:
            keyring.set_password(_KEYRING_SERVICE, user, Fernet.generate_key().decode("ascii"))
            stored = keyring.get_password(_KEYRING_SERVICE, user)
    except keyring.errors.KeyringError as err:
        raise SecretError(
            _(
                "the OS keyring cannot be used ({reason}); a server without a desktop session "
                "has none. Unset {name} to keep the key in a 0600 file instead."
            ).format(reason=err, name=KEY_STORE_ENV),
            setting="secret.key",
        ) from err
    if stored is None:
        raise SecretError(
            _(
                "no key for saved secrets in {source}; without it the saved passwords cannot "
                "be used and must be entered again."
            ).format(source=source),
            setting="secret.key",
        )
    return Cipher(_parse_key(stored.encode("ascii", "replace"), source), source)
