"""S/MIME signatures (RFC 8551): detached ``multipart/signed`` made with the company's certificate.

The certificate (PKCS#12, or PEM with its key) is checked when the job is prepared: a missing,
expired, unusable or mismatched certificate is an error before anything is sent. Signing works
on the frozen bytes, so the signed bytes are exactly what is stored and sent.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .addresses import MailAddress
from .config import Secret
from .errors import ConfigError, ProtectionError
from .i18n import _
from .jobsections import SigningSettings
from .message import OutgoingMessage

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "Signer",
    "certificate_summary",
    "describe_signature",
    "load_signer",
    "local_certificate",
]

EXPIRY_WARNING_DAYS = 30
# The signed entity holds only quoted-printable and base64 parts, neither of which can contain
# "=_", so a fixed boundary cannot occur inside it (RFC 2045 section 6.7, RFC 2046 5.1.1).
_BOUNDARY = "=_mailkit_signed"
_SIGNED_TYPE = (
    'Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n'
    f' micalg=sha-256; boundary="{_BOUNDARY}"\r\n'
)
_SIGNATURE_PART = (
    'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
    "Content-Transfer-Encoding: base64\r\n"
    'Content-Disposition: attachment; filename="smime.p7s"\r\n'
    "Content-Description: S/MIME Cryptographic Signature\r\n\r\n"
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclasses.dataclass(frozen=True)
class Signer:
    """The company's certificate and key, checked; ``sign`` wraps a frozen message."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject(self) -> str:
        """Who signs, as mail clients show it."""
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.certificate.subject.rfc4514_string()

    @property
    def expires(self) -> dt.datetime:
        """When the certificate stops being valid (UTC)."""
        return self.certificate.not_valid_after_utc

    def sign(self, message: OutgoingMessage) -> OutgoingMessage:
        """``message`` with its MIME body signed: top headers stay, the body becomes part one."""
        head, sep, body = message.data.partition(b"\r\n\r\n")
        if not sep:
            raise ProtectionError(_("the message to sign has no body"), row=message.key)
        outer, inner = _split_headers(head)
        entity = b"".join(inner) + b"\r\n" + body
        try:
            signature = (
                pkcs7.PKCS7SignatureBuilder()
                .set_data(entity)
                .add_signer(self.certificate, self.key, hashes.SHA256())
            )
            for cert in self.chain:
                signature = signature.add_certificate(cert)
            der = signature.sign(
                serialization.Encoding.DER,
                # Binary: the entity already has CRLF line ends; sign exactly the bytes sent.
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        except (ValueError, TypeError) as err:
            raise ProtectionError(
                _("the message cannot be signed: {reason}").format(reason=err), row=message.key
            ) from err
        delimiter = f"--{_BOUNDARY}\r\n".encode()
        data = b"".join(
            (
                *outer,
                _SIGNED_TYPE.encode(),
                b"\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n",
                delimiter,
                entity,
                b"\r\n",
                delimiter,
                _SIGNATURE_PART.encode(),
                base64.encodebytes(der).replace(b"\n", b"\r\n"),
                f"\r\n--{_BOUNDARY}--\r\n".encode(),
            )
        )
        # Lines of the signed message are the original's plus base64 and boundaries: a message
        # that could follow DATA as it was still can (``transparent`` is kept).
        return dataclasses.replace(message, data=data)


def _split_headers(head: bytes) -> tuple[list[bytes], list[bytes]]:
    """Header fields (with their folded lines) split into message headers and MIME headers."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line + b"\r\n"
        else:
            fields.append(line + b"\r\n")
    inner = [f for f in fields if f.lower().startswith(b"content-")]
    outer = [f for f in fields if not f.lower().startswith(b"content-")]
    return outer, inner


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigError(
            _("{setting}: cannot read {path}: {reason}").format(
                setting=setting, path=path, reason=err.strerror or err
            ),
            setting=setting,
        ) from err


def _load(settings: SigningSettings, password: Secret | None) -> Signer:
    data = _read(settings.certificate, "signing.certificate")
    secret = password.reveal().encode("utf-8") if password else None
    chain: list[x509.Certificate] = []
    try:
        if b"-----BEGIN" not in data:  # PKCS#12 (.p12, .pfx) carries the key and the chain
            key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
            chain.extend(extra)
        else:
            certs = x509.load_pem_x509_certificates(data)
            cert, chain = certs[0], certs[1:]
            key_data = _read(settings.key, "signing.key") if settings.key else data
            key = serialization.load_pem_private_key(key_data, secret)
    except (ValueError, TypeError) as err:
        raise ConfigError(
            _(
                "signing.certificate: {path} cannot be opened ({reason}); check the file and "
                "the password in the environment variable {env}"
            ).format(path=settings.certificate, reason=err, env=settings.password_env),
            setting="signing.certificate",
        ) from err
    if settings.chain:
        chain.extend(x509.load_pem_x509_certificates(_read(settings.chain, "signing.chain")))
    if cert is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(
            _("signing.certificate: {path} holds no certificate with an RSA or EC key").format(
                path=settings.certificate
            ),
            setting="signing.certificate",
        )
    return Signer(cert, key, tuple(chain))


def load_signer(
    settings: SigningSettings,
    password: Secret | None,
    sender: MailAddress,
    *,
    now: dt.datetime | None = None,
) -> Signer:
    """The checked signer for ``sender``; ConfigError naming what is wrong with the certificate."""
    signer = _load(settings, password)
    _check(signer, sender, now or dt.datetime.now(dt.UTC))
    return signer


def _problem(text: str) -> ConfigError:
    return ConfigError(
        _("signing.certificate: {problem}").format(problem=text), setting="signing.certificate"
    )


def _check(signer: Signer, sender: MailAddress, now: dt.datetime) -> None:
    cert = signer.certificate
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if cert.public_key().public_bytes(der, public) != signer.key.public_key().public_bytes(
        der, public
    ):
        raise _problem(_("the private key does not belong to the certificate"))
    if now > cert.not_valid_after_utc:
        raise _problem(
            _("the certificate expired on {date}; renew it").format(
                date=cert.not_valid_after_utc.date().isoformat()
            )
        )
    if now < cert.not_valid_before_utc:
        raise _problem(
            _("the certificate is valid only from {date}").format(
                date=cert.not_valid_before_utc.date().isoformat()
            )
        )
    _check_usage(cert)
    addresses = _addresses(cert)
    if (
        sender.addr_spec.casefold() not in addresses
        and sender.envelope().casefold() not in addresses
    ):
        raise _problem(
            _(
                "the certificate is issued for {names}, but the messages are sent from {sender}; "
                "mail clients would show the signature as not matching the sender"
            ).format(
                names=", ".join(sorted(addresses)) or _("no e-mail address"),
                sender=sender.addr_spec,
            )
        )


def _check_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            raise _problem(_("the certificate may not be used for signatures (key usage)"))
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if not {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        } & set(eku):
            raise _problem(_("the certificate is not for e-mail (extended key usage)"))
    except x509.ExtensionNotFound:
        pass


def _addresses(cert: x509.Certificate) -> set[str]:
    out = {
        str(a.value).casefold() for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        out.update(a.casefold() for a in san.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        pass
    return out


def certificate_summary(der: bytes) -> dict[str, str | list[str]]:
    """Subject, issuer, expiry date and host names of a DER certificate (a server's, for the
    connection test)."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [
            *san.get_values_for_type(x509.DNSName),
            *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
        ]
    except x509.ExtensionNotFound:
        names = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.date().isoformat(),
        "names": names,
    }


def describe_signature(p7s: bytes) -> str:
    """'S/MIME: <signer>' for a detached signature's DER bytes (for previews)."""
    try:
        certs = pkcs7.load_der_pkcs7_certificates(p7s)
    except ValueError:
        return _("S/MIME signature (unreadable)")
    leaf = next((c for c in certs if not _is_ca(c)), certs[0] if certs else None)
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if leaf else []
    first = str(names[0].value) if names else ""
    return _("S/MIME signature by {name}").format(name=first) if first else _("S/MIME signature")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def local_certificate(folder: str | Path, *, days: int = 2) -> tuple[Path, Path]:
    """A fresh self-signed server certificate for this computer (localhost, 127.0.0.1, ::1):
    ``(certificate, key)`` as PEM files written 0600 into ``folder`` (made 0700). For local
    stand-ins and rehearsals only; the certificate is also its own CA bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost (mailkit stand-in)")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    hosts: list[x509.GeneralName] = [x509.DNSName("localhost")]
    hosts += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1")]
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(hosts), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    where = Path(folder)
    out = (where / "localhost.pem", where / "localhost.key")
    try:
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path, data in zip(
            out, (cert.public_bytes(serialization.Encoding.PEM), key_pem), strict=True
        ):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # also when the file was there before
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
    except OSError as err:
        raise ConfigError(
            _("cannot write the local certificate to {folder}: {reason}").format(
                folder=where, reason=err.strerror or err
            ),
            setting="certificate",
        ) from err
    return out
