"""Commands that connect show a TLS file that cannot serve as one line naming the setting to fix,
exit with code 1, and print no stack trace, whichever of them meets it first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamapp.cli.main import app
from streamapp.settings import get_settings

MESSAGE = "STREAMAPP_KAFKA_SSL_KEYFILE is set without STREAMAPP_KAFKA_SSL_CERTFILE"


@pytest.fixture(autouse=True)
def key_without_certificate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no .env file of the developer's
    monkeypatch.setenv("STREAMAPP_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("STREAMAPP_KAFKA_SSL_KEYFILE", str(tmp_path / "client.key"))
    # Nothing may be reached before the settings are refused: these addresses answer nothing.
    monkeypatch.setenv("STREAMAPP_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("STREAMAPP_REDIS_URL", "redis://127.0.0.1:1/0")
    (tmp_path / "events.jsonl").write_text("")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [
    ["publish", "events.jsonl"],
    ["simulate", "--events", "1"],
    ["tail"],
    ["dlq", "list"],
    ["forward", "--webhook", "http://127.0.0.1:1/hook", "--unsigned"],
    ["forget", "u1"],
    ["worker", "--no-restart"],
    ["demo", "--duration", "1"],
], ids=lambda command: command[0])
def test_a_bad_tls_setting_is_one_line_and_exit_code_1(command: list[str]) -> None:
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    assert MESSAGE in " ".join(result.output.split())  # rich wraps long lines
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
