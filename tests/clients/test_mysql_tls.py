"""MySQL TLS is verified (issue 19 item 4): a man in the middle with a certificate nobody signed
never gets the login.

The middle is a real TLS server on loopback that speaks the start of the MySQL protocol: the
server greeting offering TLS, then the TLS handshake with a self-signed certificate, then
whatever the client sends (the login packet, with the user and the password's scramble). Before
the fix PyMySQL was given ``{"check_hostname": True}`` without a CA, which it reads as "do not
verify": the login reached this server.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hyperscale.clients.mysql import monitor_connection
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError, ExternalSystemError

# CLIENT_LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SSL | SECURE_CONNECTION; PLUGIN_AUTH
_CAPS_LOW, _CAPS_HIGH = 0x0001 | 0x0008 | 0x0200 | 0x0800 | 0x8000, 0x0008


def _greeting() -> bytes:
    payload = (
        b"\x0a"
        + b"5.5.5-10.11.6-MariaDB\x00"
        + struct.pack("<I", 7)
        + b"abcdefgh\x00"
        + struct.pack("<H", _CAPS_LOW)
        + b"\x21"
        + struct.pack("<H", 2)
        + struct.pack("<H", _CAPS_HIGH)
        + bytes([21])
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"
        + b"mysql_native_password\x00"
    )
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "mitm.pem", directory / "mitm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Middle:
    port: int
    cert: Path
    logins: list[bytes] = field(default_factory=list)


@pytest.fixture
def middle(tmp_path: Path) -> Iterator[Middle]:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen = Middle(listener.getsockname()[1], cert)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    conn.sendall(_greeting())
                    conn.recv(4 + 32)  # the client's "switch to TLS" request
                    with (
                        contextlib.suppress(ssl.SSLError, OSError),
                        context.wrap_socket(conn, server_side=True) as tls,
                    ):
                        login = tls.recv(4096)
                        if login:
                            seen.logins.append(login)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield seen
    listener.close()


def _tls_env(env: Environment, port: int, ca_file: str | None = None) -> Environment:
    mysql = env.mysql.model_copy(
        update={
            "writer": env.mysql.writer.model_copy(update={"port": port}),
            "tls": True,
            "ca_file": ca_file,
        }
    )
    return env.model_copy(update={"mysql": mysql})


def test_a_man_in_the_middle_never_gets_the_login(
    local_env: Environment, shared_app: AppContext, middle: Middle
) -> None:
    env = _tls_env(local_env, middle.port)
    with pytest.raises(ExternalSystemError), monitor_connection(env, shared_app, "writer"):
        pass
    assert middle.logins == []


def test_a_server_the_configured_ca_vouches_for_is_trusted(
    local_env: Environment, shared_app: AppContext, middle: Middle
) -> None:
    """The same server trusted through mysql.ca_file: the handshake completes and the login is
    sent (the fake server then hangs up), so the refusal above is verification, not TLS failing."""
    env = _tls_env(local_env, middle.port, ca_file=str(middle.cert))
    with pytest.raises(ExternalSystemError), monitor_connection(env, shared_app, "writer"):
        pass
    assert len(middle.logins) == 1
    assert local_env.mysql.user.encode() in middle.logins[0]


def test_an_unreadable_ca_file_is_named(
    local_env: Environment, shared_app: AppContext, tmp_path: Path
) -> None:
    env = _tls_env(local_env, 1, ca_file=str(tmp_path / "absent.pem"))
    with (
        pytest.raises(ConfigError, match=r"mysql.ca_file"),
        monitor_connection(env, shared_app, "writer"),
    ):
        pass
