"""Kafka TLS settings into an SSL context: the client certificate files that cannot serve are
named in the error, and an encrypted key never waits for a pass phrase on the terminal."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from streamapp.security import kafka_client_kwargs, kafka_ssl_context
from streamapp.settings import Settings

EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cert.pem with its key.pem, the same key encrypted, and someone else's key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("these tests make a throwaway certificate with `openssl`: install it")
    directory = tmp_path_factory.mktemp("pem")
    for args in (["req", "-x509", *EC_KEY, "-keyout", "key.pem", "-out", "cert.pem",
                  "-days", "1", "-subj", "/CN=client"],
                 ["pkcs8", "-topk8", "-in", "key.pem", "-out", "encrypted.pem",
                  "-passout", "pass:secret"],
                 ["req", "-x509", *EC_KEY, "-keyout", "other.pem", "-out", "other-cert.pem",
                  "-days", "1", "-subj", "/CN=other"]):
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True,
                       timeout=30)
    return directory


def _settings(**files: Any) -> Settings:
    return Settings(_env_file=None, kafka_security_protocol="SSL", **files)


def test_a_client_certificate_and_its_key_make_a_verifying_context(pem: Path) -> None:
    settings = _settings(kafka_ssl_cafile=pem / "cert.pem", kafka_ssl_certfile=pem / "cert.pem",
                         kafka_ssl_keyfile=pem / "key.pem")
    context = kafka_client_kwargs(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


def test_certificate_and_key_may_share_one_file(pem: Path) -> None:
    both = pem / "both.pem"
    both.write_text((pem / "key.pem").read_text() + (pem / "cert.pem").read_text())
    assert kafka_ssl_context(_settings(kafka_ssl_certfile=both)) is not None


def test_an_encrypted_key_is_refused_without_asking_for_a_pass_phrase(pem: Path) -> None:
    settings = _settings(kafka_ssl_certfile=pem / "cert.pem",
                         kafka_ssl_keyfile=pem / "encrypted.pem")
    with pytest.raises(ValueError, match=r"encrypted\.pem is encrypted: point "
                                         "STREAMAPP_KAFKA_SSL_KEYFILE at an unencrypted"):
        kafka_ssl_context(settings)


def test_a_key_of_another_certificate_names_both_settings(pem: Path) -> None:
    settings = _settings(kafka_ssl_certfile=pem / "cert.pem", kafka_ssl_keyfile=pem / "other.pem")
    with pytest.raises(ValueError, match=r"STREAMAPP_KAFKA_SSL_CERTFILE=.*cert\.pem with "
                                         r"STREAMAPP_KAFKA_SSL_KEYFILE=.*other\.pem"):
        kafka_ssl_context(settings)


def test_a_missing_ca_file_names_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"STREAMAPP_KAFKA_SSL_CAFILE=.*No such file"):
        kafka_ssl_context(_settings(kafka_ssl_cafile=tmp_path / "missing.pem"))
