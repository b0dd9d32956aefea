"""The README documents every setting, so a new one cannot go unexplained."""

from __future__ import annotations

from pathlib import Path

from streamapp.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = []
    for name in Settings.model_fields:
        env = f"STREAMAPP_{name.upper()}"
        # Grouped rows abbreviate the shared prefix: `STREAMAPP_KAFKA_SSL_CAFILE` / `_CERTFILE`.
        if env not in README and f"`_{env.rsplit('_', 1)[-1]}`" not in README:
            missing.append(env)
    assert missing == []
