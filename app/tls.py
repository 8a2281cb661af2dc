"""Self-signed TLS certificate created by `init`; the private key is stored encrypted."""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from storage.crypto import derive_key
from storage.masterkey import MasterKey


def key_password(master: MasterKey) -> str:
    return derive_key(master.key, "tls-private-key").hex()


def create_self_signed(tls_dir: Path, master: MasterKey) -> None:
    """Write cert.pem and an encrypted key.pem valid for localhost names, ten years."""
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent-appliance.local")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tls_dir / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password(master).encode()),
    )
    key_path = tls_dir / "key.pem"
    key_path.touch(mode=0o600)
    key_path.write_bytes(encrypted)
