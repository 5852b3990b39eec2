"""Test certificates: a throwaway CA and a server certificate for 127.0.0.1.

Fake servers of services that use TLS (Bilibili, Twitch) serve with the certificate; the
client processes under test trust the CA through `--ca-file`, exactly as a user would
trust a corporate or self-signed CA. Nothing here touches the system's trust store.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme  # a dependency of Kagura's own: `kagura live demo` runs the Bilibili fake

from kagura.testing.background import BackgroundFake


class Certificates:
    """A CA and a server certificate for `hosts` (`127.0.0.1` and `localhost`, or a real
    service's name reached through `connect_proxy`), also written as PEM files in `directory`
    (`ca_file` for clients, `cert_file` holding key and chain)."""

    def __init__(
        self, directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert(*hosts)
        self.ca_file = directory / "test-ca.pem"
        self.cert_file = directory / "test-server.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.server.private_key_and_cert_chain_pem.write_to_path(str(self.cert_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


class TlsFake(BackgroundFake):
    """A fake service over TLS, with its certificates made in `workdir/tls`: the client under
    test trusts `ca_file` (`--ca-file`)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.certificates = Certificates(workdir / "tls")

    @property
    def ca_file(self) -> Path:
        return self.certificates.ca_file
