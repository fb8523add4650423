"""S/MIME signing: verified by ``openssl smime -verify`` against a test CA made here; a missing,
expired, wrong or mismatched certificate is an error before anything is sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from payroll import attachments_of, pdf_text, pesel, run, tool, write_payroll
from smtp_server import FaultServer

import mailkit
from mailkit.cli import main
from mailkit.cli.common import EXIT_OK, EXIT_USAGE
from mailkit.errors import ConfigError

SENDER = "kadry@firma.example.com"
NOW = dt.datetime.now(dt.UTC)


class CA:
    """A throw-away certificate authority issuing S/MIME certificates."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailkit test CA")])
        self.cert = (
            self._builder(self.name, self.key.public_key(), NOW - dt.timedelta(days=1), 365)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = folder / "ca.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def _builder(
        self, subject: x509.Name, public: object, start: dt.datetime, days: int
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days))
        )

    def issue(
        self, email: str = SENDER, *, start: dt.datetime | None = None, days: int = 365
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kadry i Płace")])
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=True,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        cert = (
            self._builder(subject, key.public_key(), start or NOW - dt.timedelta(days=1), days)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(usage, critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return key, cert

    def p12(self, name: str, password: bytes = b"Tajne-haslo-1", **kwargs: object) -> Path:
        key, cert = self.issue(**kwargs)  # type: ignore[arg-type]
        path = self.folder / name
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"firma", key, cert, [self.cert], serialization.BestAvailableEncryption(password)
            )
        )
        return path


@pytest.fixture
def ca(tmp_path: Path) -> CA:
    folder = tmp_path / "pki"
    folder.mkdir()
    return CA(folder)


def signing(cert: Path, extra: str = "") -> str:
    return f'\n[signing]\ncertificate = "{cert}"\n{extra}'


def export_one(job: Path, out: Path, **kwargs: str) -> Path:
    merge = mailkit.prepare(mailkit.load_job(job), **kwargs)  # type: ignore[arg-type]
    asyncio.run(mailkit.export_drafts(merge, out))
    return sorted(out.glob("*.eml"))[0]


def test_signed_message_verifies_with_openssl(tmp_path: Path, ca: CA) -> None:
    extra = '[attachments]\ngenerate = "payslip"\n' + signing(ca.p12("firma.p12"))
    eml = export_one(
        write_payroll(tmp_path, extra, count=1), tmp_path / "out", signing_password="Tajne-haslo-1"
    )
    content = tmp_path / "content.eml"
    verified = run(
        tool("openssl"), "smime", "-verify", "-in", eml, "-CAfile", ca.pem, "-out", content
    )
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    assert b"multipart/signed" in eml.read_bytes()
    assert b"Pasek za 10/2026" in eml.read_bytes()  # top-level headers stay readable
    # The signed content still carries the protected payslip, openable with the PESEL only.
    path = tmp_path / "p.pdf"
    path.write_bytes(attachments_of(eml.read_bytes())["pasek-wynagrodzen.pdf"])
    assert pdf_text(path, pesel(1)).returncode == 0

    tampered = tmp_path / "tampered.eml"
    tampered.write_bytes(eml.read_bytes().replace(b"Dzie=C5=84 dobry", b"Dzie=C5=84 zly", 1))
    assert tampered.read_bytes() != eml.read_bytes()
    refused = run(
        tool("openssl"),
        "smime",
        "-verify",
        "-in",
        tampered,
        "-CAfile",
        ca.pem,
        "-out",
        tmp_path / "x",
    )
    assert refused.returncode != 0


def test_pem_certificate_and_key_from_the_environment(
    tmp_path: Path, ca: CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, cert = ca.issue()
    cert_file, key_file = tmp_path / "firma.crt", tmp_path / "firma.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.pem.read_bytes())
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"z-env-123"),
        )
    )
    monkeypatch.setenv("FIRMA_CERT_PASSWORD", "z-env-123")
    job = write_payroll(
        tmp_path,
        signing(cert_file, f'key = "{key_file}"\npassword_env = "FIRMA_CERT_PASSWORD"\n'),
        count=1,
    )
    eml = export_one(job, tmp_path / "out")
    verified = run(
        tool("openssl"), "smime", "-verify", "-in", eml, "-CAfile", ca.pem, "-out", tmp_path / "c"
    )
    assert verified.returncode == 0, verified.stderr

    other, _ = ca.issue()
    key_file.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"z-env-123"),
        )
    )
    with pytest.raises(ConfigError, match="does not belong to the certificate"):
        mailkit.prepare(mailkit.load_job(job))


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"start": NOW - dt.timedelta(days=400), "days": 365}, "expired on"),
        ({"start": NOW + dt.timedelta(days=5)}, "valid only from"),
        ({"email": "ktos.inny@firma.example.com"}, "ktos.inny@firma.example.com"),
    ],
)
def test_an_unusable_certificate_is_an_error_before_sending(
    tmp_path: Path, ca: CA, kwargs: dict[str, object], problem: str
) -> None:
    job = write_payroll(tmp_path, signing(ca.p12("bad.p12", **kwargs)), count=1)
    with pytest.raises(ConfigError, match=problem) as caught:
        mailkit.prepare(mailkit.load_job(job), signing_password="Tajne-haslo-1")
    assert caught.value.setting == "signing.certificate"


def test_missing_file_and_wrong_password(
    tmp_path: Path, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    job = write_payroll(tmp_path, signing(tmp_path / "nie-ma.p12"), count=1)
    with pytest.raises(ConfigError, match=r"nie-ma\.p12"):
        mailkit.prepare(mailkit.load_job(job))
    job = write_payroll(tmp_path, signing(ca.p12("firma.p12")), count=1)
    with pytest.raises(ConfigError, match="MAILKIT_SIGNING_PASSWORD"):
        mailkit.prepare(mailkit.load_job(job), signing_password="zle-haslo")
    assert main(["check", str(job)]) == EXIT_USAGE  # no terminal, no variable: a clear error
    err = capsys.readouterr().err
    assert "MAILKIT_SIGNING_PASSWORD" in err
    assert "Traceback" not in err


def test_the_password_never_goes_into_the_job_file(tmp_path: Path, ca: CA) -> None:
    job = write_payroll(tmp_path, signing(ca.p12("firma.p12"), 'password = "Tajne-haslo-1"\n'))
    with pytest.raises(ConfigError, match="must not be in the job file") as caught:
        mailkit.load_job(job)
    assert caught.value.setting == "signing.password"


def test_preview_and_check_show_the_signature(
    tmp_path: Path, ca: CA, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAILKIT_SIGNING_PASSWORD", "Tajne-haslo-1")
    job = write_payroll(
        tmp_path,
        '[attachments]\ngenerate = "payslip"\n' + signing(ca.p12("soon.p12", days=10)),
        count=1,
    )
    assert main(["preview", str(job), "--row", "P1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Signed: S/MIME signature by Kadry i Płace" in out
    assert "pasek-wynagrodzen.pdf (application/pdf" in out
    assert "[PDF AES-256]" in out
    assert main(["check", str(job)]) == EXIT_OK
    assert "expires in" in capsys.readouterr().out  # a warning, 10 days ahead


def test_worker_processes_sign_with_the_password_given_in_python(tmp_path: Path, ca: CA) -> None:
    """The certificate password reaches the workers (never through a file or the environment)."""
    extra = '[attachments]\ngenerate = "payslip"\n' + signing(ca.p12("firma.p12"))
    job = mailkit.load_job(write_payroll(tmp_path, extra, count=3))
    merge = mailkit.prepare(job, signing_password="Tajne-haslo-1")
    built = list(merge.messages(workers=2))
    assert [b.record.key for b in built] == ["P1", "P2", "P3"]
    for item in built:
        assert item.message is not None, item.error
        eml = tmp_path / f"{item.record.key}.eml"
        eml.write_bytes(item.message.data)
        verified = run(
            tool("openssl"),
            "smime",
            "-verify",
            "-in",
            eml,
            "-CAfile",
            ca.pem,
            "-out",
            tmp_path / "c",
        )
        assert verified.returncode == 0, verified.stderr


def _verified(data: bytes, folder: Path, ca: CA) -> str:
    """The subject of a received message whose S/MIME signature openssl verified."""
    eml = folder / "received.eml"
    eml.write_bytes(data)
    verified = run(
        tool("openssl"), "smime", "-verify", "-in", eml, "-CAfile", ca.pem, "-out", folder / "c"
    )
    assert verified.returncode == 0, verified.stderr
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert message.get_content_type() == "multipart/signed"
    return str(message["Subject"])


def test_tests_to_me_and_redirected_batches_are_signed_like_the_real_message(
    tmp_path: Path, ca: CA, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAILKIT_SIGNING_PASSWORD", "Tajne-haslo-1")
    with FaultServer(tmp=tmp_path) as server:
        extra = '[attachments]\ngenerate = "payslip"\n' + signing(ca.p12("firma.p12"))
        extra += (
            '\n[destination]\nkind = "smtp"\n[destination.smtp]\nhost = "127.0.0.1"\n'
            f'port = {server.port}\nsecurity = "none"\ntimeout_ms = 3000\n'
        )
        job = str(write_payroll(tmp_path, extra, count=2))
        assert main(["send", job, "--test-to-me", "--row", "P2"]) == EXIT_OK, capsys.readouterr()
        assert main(["send", job, "--test-address", "ja@example.org", "--yes"]) == EXIT_OK
        stored = list(server.stored)
    assert [s.rcpt_tos for s in stored] == [(SENDER,), ("ja@example.org",), ("ja@example.org",)]
    for item in stored:
        assert _verified(item.data, tmp_path, ca) == "[TEST] Pasek za 10/2026"
    # The test to me carries row P2's payslip, still openable with that row's PESEL only.
    path = tmp_path / "p.pdf"
    path.write_bytes(attachments_of(stored[0].data)["pasek-wynagrodzen.pdf"])
    assert pdf_text(path, pesel(2)).returncode == 0
    assert pdf_text(path, pesel(1)).returncode != 0
