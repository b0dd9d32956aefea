"""The token rule and the static files of the dashboard."""

from __future__ import annotations

import base64

from streamapp.worker.views import static_asset, token_matches


def test_bearer_and_basic_carry_the_token() -> None:
    assert token_matches("Bearer abc", "abc")
    assert token_matches("bearer abc", "abc")
    assert not token_matches("Bearer abcd", "abc")
    assert not token_matches("", "abc")
    assert not token_matches("Token abc", "abc")
    basic = base64.b64encode(b"user:abc").decode()
    assert token_matches(f"Basic {basic}", "abc")
    assert not token_matches(f"Basic {base64.b64encode(b'abc:').decode()}", "abc")
    assert not token_matches("Basic not-base64!", "abc")


def test_only_the_dashboard_files_are_served() -> None:
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        asset = static_asset(name)
        assert asset is not None and asset[0]
    for name in ("../views.py", "..", "views.py", ".hidden.js", "a/b.js", "missing.js"):
        assert static_asset(name) is None


def test_the_page_loads_nothing_from_the_internet() -> None:
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        asset = static_asset(name)
        assert asset is not None
        text = asset[0].decode()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text and "//cdn" not in text
    script = static_asset("dashboard.js")
    assert script is not None and b".innerHTML" not in script[0]
