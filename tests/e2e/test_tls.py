"""TLS: `ignis server --tls` (self-signed certificate in the data dir, fingerprint printed) and
`--tls-cert/--tls-key`; TLS 1.2 and 1.3 only; plain HTTP is not served on a TLS port."""

from __future__ import annotations

import hashlib
import http.client
import re
import shutil
import socket
import ssl
import stat
import warnings

import pytest

from helpers import IgnisServer, new_workdir


def fingerprint_of(pem_path) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem_path.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def tls_handshake(port: int, cafile, version: ssl.TLSVersion) -> str:
    ctx = ssl.create_default_context(cafile=str(cafile))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer it: only the server may refuse
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            return tls.version()


def test_self_signed_tls_serves_boto3(fresh_server):
    srv = fresh_server({"IGNIS_TLS": "1"})
    assert srv.endpoint.startswith("https://")
    lam = srv.client()
    assert lam.list_functions()["Functions"] == []
    key = srv.data_dir / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    fp = fingerprint_of(srv.ca_file)
    assert re.search(re.escape(fp), srv.log_tail(200)), "the certificate fingerprint is printed at start"

    # TLS 1.2 and 1.3 are accepted; older versions are refused.
    assert tls_handshake(srv.port, srv.ca_file, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    assert tls_handshake(srv.port, srv.ca_file, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with pytest.raises(ssl.SSLError):
        tls_handshake(srv.port, srv.ca_file, ssl.TLSVersion.TLSv1_1)

    # Plain HTTP on the TLS port gets no HTTP answer.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn.request("GET", "/health")
        conn.getresponse()
    conn.close()

    # A client that does not trust the certificate is refused by its own verification.
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx = ssl.create_default_context()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            ctx.wrap_socket(sock, server_hostname="127.0.0.1")

    # The certificate survives a restart (clients keep trusting it).
    srv.restart()
    assert fingerprint_of(srv.ca_file) == fp
    assert srv.client().list_functions()["Functions"] == []


def test_operator_certificate_files(fresh_server):
    first = fresh_server({"IGNIS_TLS": "1"})
    wd = new_workdir()
    try:
        cert, key = wd / "cert.pem", wd / "key.pem"
        shutil.copy(first.ca_file, cert)
        shutil.copy(first.data_dir / "tls" / "key.pem", key)
        srv = fresh_server({"IGNIS_TLS_CERT": str(cert), "IGNIS_TLS_KEY": str(key)})
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=5, context=ctx)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        assert resp.status == 200 and b"ok" in resp.read()
        conn.close()
        assert not (srv.data_dir / "tls").exists(), "no self-signed certificate made when files are given"
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_broken_certificate_fails_start(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    srv = IgnisServer(new_workdir(), env={"IGNIS_TLS_CERT": str(cert), "IGNIS_TLS_KEY": str(key)})
    with pytest.raises(RuntimeError, match="exited"):
        srv.start()
