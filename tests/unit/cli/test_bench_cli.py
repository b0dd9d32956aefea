"""``streamapp bench throughput`` refuses a contender it does not have before it starts anything."""

from __future__ import annotations

from typer.testing import CliRunner

from streamapp.cli.main import app


def test_an_unknown_contender_is_named_with_the_ones_there_are() -> None:
    result = CliRunner().invoke(app, ["bench", "throughput", "--only", "worker,wrker"])
    assert result.exit_code == 2
    # The error box wraps at the terminal's width.
    text = " ".join(result.output.replace("│", " ").split())
    assert "wrker is not a contender; use some of worker,worker2,noop,naive,raw" in text
