"""Release routes: list, file downloads with strict path handling, and the voter consent endpoints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from arena.api import install_error_handlers
from arena.errors import NotFoundError
from arena.release_api import build_release_api, safe_release_file
from arena.services.releases import ReleaseService
from arena.services.voters import VoterService
from tests.services.release_seed import T0, Seed, insert, spread, voter_id


@pytest.fixture
def setup(make_services: Any) -> Iterator[tuple[TestClient, ReleaseService, dict[str, Any]]]:
    services = make_services()
    insert(services, spread([Seed(voter=voter_id(i % 6)) for i in range(8)]))
    releases = ReleaseService(services.sessions, services.settings, services.catalog, services.media)
    summary = releases.build(until=T0 + timedelta(days=30))
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_release_api(releases, VoterService(services.sessions, services.settings),
                                         releases.releases_dir))
    with TestClient(app) as client:
        yield client, releases, summary


def test_list_and_download(setup: tuple[TestClient, ReleaseService, dict[str, Any]]) -> None:
    client, releases, summary = setup
    listed = client.get("/api/releases").json()["releases"]
    assert [r["name"] for r in listed] == [summary["name"]] and listed[0]["rows"] == 8
    assert "key_hex" not in str(listed) and client.get("/releases/index.json").json()["releases"] == listed
    folder = releases.releases_dir / summary["name"]
    for f in listed[0]["files"]:
        response = client.get(f["url"])
        assert response.status_code == 200, f["url"]
        assert response.content == (folder / f["path"]).read_bytes()
        if "sha256" in f:
            assert hashlib.sha256(response.content).hexdigest() == f["sha256"]
    parquet = client.get(f"/releases/{summary['name']}/battles.parquet")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert "attachment" in parquet.headers["content-disposition"]


def test_path_tricks_are_404(setup: tuple[TestClient, ReleaseService, dict[str, Any]]) -> None:
    client, releases, summary = setup
    (releases.releases_dir / ".tmp-hidden").mkdir()
    (releases.releases_dir / summary["name"] / "sub").mkdir()
    (releases.releases_dir / summary["name"] / "sub" / "battles.parquet").write_bytes(b"x")
    for path in ("..%2Findex.json", "%2e%2e/%2e%2e/arena.db", "media%2F..%2F..%2Findex.json", ".spool",
                 "%2Fetc%2Fpasswd", "media", "nothing.txt", "a/b/c", "battles.parquet/", "sub/battles.parquet"):
        response = client.get(f"/releases/{summary['name']}/{path}")
        assert response.status_code == 404, (path, response.status_code)
    assert client.get("/releases/.tmp-hidden/x").status_code == 404


def test_safe_release_file_refuses_raw_tricks(setup: tuple[TestClient, ReleaseService, dict[str, Any]]) -> None:
    _client, releases, summary = setup
    for path in ("../index.json", "..", ".", "media/../../x", "media/../manifest.json", "/etc/passwd", "media//x",
                 ".spool", "media/.hidden", "a\\..\\b", "x\x00y", ""):
        with pytest.raises(NotFoundError):
            safe_release_file(releases.releases_dir, summary["name"], path)
    with pytest.raises(NotFoundError):
        safe_release_file(releases.releases_dir, "..", "index.json")
    assert safe_release_file(releases.releases_dir, summary["name"], "manifest.json").name == "manifest.json"


def test_unknown_release_and_symlink_are_404(setup: tuple[TestClient, ReleaseService, dict[str, Any]]) -> None:
    client, releases, summary = setup
    folder = releases.releases_dir / summary["name"]
    (releases.releases_dir / "secret.txt").write_text("secret")
    (folder / "link.txt").symlink_to(releases.releases_dir / "secret.txt")
    assert client.get(f"/releases/{summary['name']}/link.txt").status_code == 404
    assert client.get("/releases/.tmp-x/battles.parquet").status_code == 404
    fake = releases.releases_dir / "arena-19990101-0000"
    fake.mkdir()
    (fake / "battles.parquet").write_bytes(b"not published")
    assert client.get("/releases/arena-19990101-0000/battles.parquet").status_code == 404  # not in the database


def test_terms_withdraw_delete(setup: tuple[TestClient, ReleaseService, dict[str, Any]]) -> None:
    client = setup[0]
    first = client.post("/api/voters/terms", json={"voter": voter_id(99)})
    assert first.status_code == 200 and first.json()["replaced_previous_token"] is False
    accepted = client.post("/api/voters/terms", json={"voter": voter_id(99)})  # twice: a new token
    assert accepted.status_code == 200 and accepted.json()["token"].startswith("wd_")
    assert accepted.json()["replaced_previous_token"] is True and "no longer works" in accepted.json()["message"]
    old = client.post("/api/voters/withdraw", json={"token": first.json()["token"]})
    assert old.status_code == 404 and "only the token shown last" in old.json()["error"]["message"]
    token = accepted.json()["token"]
    assert client.post("/api/voters/withdraw", json={"token": token}).json()["withdrawn"] is True
    deleted = client.post("/api/voters/delete", json={"token": token}).json()
    assert deleted["deleted"] is True and set(deleted["erased"]) == {"prompts", "outputs", "feedback", "lyrics"}
    again = client.post("/api/voters/terms", json={"voter": voter_id(99)})
    assert again.status_code == 409 and "withdrawn" in again.json()["error"]["message"]
    assert client.post("/api/voters/withdraw", json={"token": "wd_" + "0" * 30}).status_code == 404
    assert client.post("/api/voters/withdraw", json={"token": "nope"}).status_code == 422
    assert client.post("/api/voters/terms", json={"voter": "x"}).status_code == 422
    assert client.post("/api/voters/terms", json={"voter": voter_id(5), "extra": 1}).status_code == 422
