"""The HTTP API of `rag serve`, through a real HTTP client against the running server:
the CLI's JSON, bounded bodies, clear 4xx errors, and the UI's login."""

import base64

import pytest

from rag.api import MAX_BODY_BYTES

from .conftest import FAKE_MODEL

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]

ANSWER_FIELDS = {"id", "question", "answer", "refused", "citations", "hits", "verified", "notice", "timings_ms"}
CITATION_FIELDS = {"n", "article_id", "chunk_id", "headline", "date", "date_inferred", "issue", "page", "quote",
                   "reference"}


def _serve(settings):
    from rag.pipeline import Assistant
    from ui.server import Engine, Server, web_app

    assistant = Assistant.open(settings)
    app = web_app(assistant, settings, Engine(assistant, settings), settings.ui_auth)
    return Server(app, "127.0.0.1", 0).start()


@pytest.fixture(scope="module")
def api(fake_index):
    import httpx

    server = _serve(fake_index)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client:
            yield client
    finally:
        server.stop()


def test_health_and_the_docs(api, fake_assistant):
    health = api.get("/api/health").json()
    assert health["status"] == "ok" and health["articles"] == len(fake_assistant.index.articles)
    import re

    docs = api.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/api/") for a in assets), assets  # nothing from outside
    assert all(api.get(a).status_code == 200 for a in assets)
    paths = api.get("/api/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/verify", "/api/check", "/api/articles/{article_id}", "/api/health"} <= paths.keys()
    assert api.get("/").status_code == 200  # the web UI, on the same server


def test_ask_verify_check_and_articles_speak_the_cli_json(api, fake_assistant):
    answer = api.post("/api/ask", json={"question": "2025年株洲医保参保人数"}).json()
    assert ANSWER_FIELDS <= answer.keys() and answer["question"] == "2025年株洲医保参保人数"
    assert answer["hits"] and all(CITATION_FIELDS <= c.keys() for c in answer["citations"])
    local = fake_assistant.ask("2025年株洲医保参保人数").to_dict()
    assert answer["answer"] == local["answer"] and answer["hits"] == local["hits"]

    claim = "截至2025年底，全市基本医疗保险参保人数达到360万人。"
    verdict = api.post("/api/verify", json={"claim": claim}).json()
    assert verdict == fake_assistant.verify(claim).to_dict()

    draft = "去年，醴陵经开区完成新签约项目29个。我们认为前景光明。\n" + claim
    claims = api.post("/api/check", json={"text": draft}).json()["claims"]
    assert [draft[c["start"]:c["end"]] for c in claims] == [c["claim"] for c in claims] and len(claims) == 2
    assert claims[1]["verdict"] == verdict["verdict"]

    article_id = answer["hits"][0]["article_id"]
    article = api.get(f"/api/articles/{article_id}").json()
    assert article == fake_assistant.index.articles[article_id].to_dict() and article["body"]


@pytest.mark.parametrize("path,body,status,message", [
    ("/api/ask", {}, 422, "question: Field required"),
    ("/api/ask", {"question": ""}, 422, "question: String should have at least 1 character"),
    ("/api/ask", {"question": "株" * 501}, 422, "question: String should have at most 500 characters"),
    ("/api/ask", {"question": "株洲", "from": "2025-13-01"}, 400, "\"from\" must be a date YYYY-MM-DD"),
    ("/api/ask", {"question": "株洲", "from": "2025-02-01", "to": "2024-01-01"}, 400, "is after \"to\""),
    ("/api/ask", {"question": "株洲", "mode": "fast"}, 422, "mode: Input should be 'hybrid', 'keyword' or 'dense'"),
    ("/api/ask", {"question": "株洲", "k": 3}, 422, "k: Extra inputs are not permitted"),
    ("/api/ask", [1], 422, "Input should be a valid dictionary"),
    ("/api/verify", {"claim": "   "}, 400, "\"claim\" is blank"),
    ("/api/check", {"text": "   "}, 400, "text: the draft is empty"),
    ("/api/check", {"text": "株" * 10_001}, 422, "text: String should have at most 10000 characters"),
])
def test_bad_input_gets_a_4xx_saying_what_is_wrong(api, path, body, status, message):
    r = api.post(path, json=body)
    assert r.status_code == status and message in r.json()["error"], r.text


def test_broken_json_oversized_bodies_and_unknown_things(api):
    r = api.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]
    r = api.post("/api/check", content=b"x" * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]

    def chunks():  # no Content-Length: the limit still holds while reading
        for _ in range(MAX_BODY_BYTES // 1000 + 2):
            yield b" " * 1000

    r = api.post("/api/check", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = api.get("/api/articles/no-such-id")
    assert r.status_code == 404 and "no-such-id" in r.json()["error"]
    assert api.get("/api/nothing").status_code == 404
    assert api.get("/api/ask").status_code == 405


def test_the_api_asks_for_the_uis_login(fake_index, monkeypatch):
    import httpx

    from rag.settings import Settings

    monkeypatch.setenv("RAG_UI_USER", "editor")
    monkeypatch.setenv("RAG_UI_PASSWORD", "s3cret")
    settings = Settings.load(index_dir=fake_index.index_dir, embed_model=FAKE_MODEL)
    server = _serve(settings)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client:
            r = client.get("/api/health")
            assert r.status_code == 401 and "login required" in r.json()["error"]
            assert r.headers["www-authenticate"].startswith("Basic")
            assert client.get("/api/health", auth=("editor", "wrong")).status_code == 401
            bad = {"authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()}
            assert client.get("/api/health", headers=bad).status_code == 401
            assert client.get("/api/health", auth=("editor", "s3cret")).json()["status"] == "ok"
            # Logged in at the page, the same browser may call the API.
            login = client.post("/login", data={"username": "editor", "password": "s3cret"})
            assert login.status_code == 200 and client.cookies
            assert client.get("/api/health").status_code == 200
    finally:
        server.stop()
