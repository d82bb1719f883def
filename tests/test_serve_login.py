"""Login for the web UI: read with the other settings, and a warning when serving openly."""

import pytest

from rag.errors import SettingsError
from rag.settings import Settings

pytestmark = pytest.mark.unit


def test_login_comes_from_the_environment_and_needs_both(monkeypatch):
    assert Settings.load().ui_auth is None
    monkeypatch.setenv("RAG_UI_USER", "editor")
    with pytest.raises(SettingsError, match="RAG_UI_USER and RAG_UI_PASSWORD"):
        Settings.load()
    monkeypatch.setenv("RAG_UI_PASSWORD", "s3cret")
    s = Settings.load()
    assert s.ui_auth == ("editor", "s3cret") and "s3cret" not in repr(s)


class _Stop(Exception):
    pass


def _serve_until_built(monkeypatch, host):
    import rag.pipeline
    import ui.app

    monkeypatch.setattr(rag.pipeline.Assistant, "open", classmethod(lambda cls, settings: object()))

    def build_app(*a, **k):
        raise _Stop

    monkeypatch.setattr(ui.app, "build_app", build_app)
    with pytest.raises(_Stop):
        ui.app.serve(Settings.load(), host=host, port=1)


@pytest.mark.parametrize("host,warned", [("0.0.0.0", True), ("192.168.1.5", True), ("::", True),
                                         ("127.0.0.1", False), ("127.0.1.1", False),
                                         ("localhost", False), ("::1", False)])
def test_serving_beyond_loopback_without_login_warns(monkeypatch, capsys, host, warned):
    monkeypatch.delenv("RAG_UI_USER", raising=False)
    monkeypatch.delenv("RAG_UI_PASSWORD", raising=False)
    _serve_until_built(monkeypatch, host)
    assert ("warning: serving on" in capsys.readouterr().err) is warned


def test_no_warning_with_login(monkeypatch, capsys):
    monkeypatch.setenv("RAG_UI_USER", "editor")
    monkeypatch.setenv("RAG_UI_PASSWORD", "s3cret")
    _serve_until_built(monkeypatch, "0.0.0.0")
    assert "warning" not in capsys.readouterr().err
