"""The S3 media store against a real S3-compatible server (moto's server mode on 127.0.0.1), and its wiring."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from arena.config import MediaSettings, Settings, load_settings
from arena.errors import ConfigError, NotFoundError, StorageError
from arena.media import LocalMediaStore, MediaStore, build_media_store
from arena.media_s3 import S3MediaStore

moto_server = pytest.importorskip("moto.server")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200
VOTER = "voter-media-s3-0001"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port for this module."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys in the environment (the only place the store reads them from)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "arena-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "arena-test-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def bucket() -> str:
    """A fresh bucket name per test."""
    return f"arena-media-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(endpoint: str, bucket: str, credentials: None) -> S3MediaStore:
    """An S3 store on a freshly created bucket."""
    s3 = S3MediaStore(bucket, endpoint_url=endpoint, prefix="media/", max_attempts=1)
    assert s3.ensure_bucket() is True
    assert s3.ensure_bucket() is False
    return s3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_put_get_roundtrip_sets_key_and_content_type(store: S3MediaStore) -> None:
    sha = store.put(PNG)
    assert sha == hashlib.sha256(PNG).hexdigest()
    assert store.key(sha) == f"media/{sha[:2]}/{sha}"
    assert store.get(sha) == PNG and store.exists(sha) and store.size(sha) == len(PNG)
    head = store._s3().head_object(Bucket=store.bucket, Key=store.key(sha))
    assert head["ContentType"] == "image/png" and "immutable" in head["CacheControl"]
    blob = store.open(sha)
    assert (blob.mime, blob.size, b"".join(blob.chunks)) == ("image/png", len(PNG), PNG)
    wav = store.put(WAV, mime="audio/wav")
    assert store.open(wav).mime == "audio/wav"


def test_put_is_idempotent(store: S3MediaStore, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = store.put(PNG)
    calls: list[str] = []
    client = store._s3()
    original = client.put_object
    monkeypatch.setattr(client, "put_object", lambda **kw: calls.append(kw["Key"]) or original(**kw))
    assert store.put(PNG) == sha and calls == []
    listed = client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [store.key(sha)]


def test_missing_object_is_not_found(store: S3MediaStore) -> None:
    absent = "0" * 64
    assert store.exists(absent) is False
    for call in (store.get, store.open, store.size):
        with pytest.raises(NotFoundError, match="not found"):
            call(absent)
    with pytest.raises(NotFoundError, match="not a media id"):
        store.get("../../etc/passwd")


def test_objects_copied_without_a_type_are_sniffed(store: S3MediaStore) -> None:
    sha = hashlib.sha256(WAV).hexdigest()
    store._s3().put_object(Bucket=store.bucket, Key=store.key(sha), Body=WAV)  # as `aws s3 sync` would
    blob = store.open(sha)
    assert blob.mime == "audio/wav" and b"".join(blob.chunks) == WAV


def test_missing_bucket_is_a_typed_storage_error(endpoint: str, credentials: None) -> None:
    s3 = S3MediaStore("arena-no-such-bucket", endpoint_url=endpoint, max_attempts=1)
    for call in (lambda: s3.put(PNG), lambda: s3.get("1" * 64), s3.check):
        with pytest.raises(StorageError, match="does not exist") as info:
            call()
        assert info.value.detail == {"reason": "bucket_missing"} and info.value.status_code == 503


def test_unreachable_endpoint_is_a_typed_storage_error(credentials: None, caplog: pytest.LogCaptureFixture) -> None:
    s3 = S3MediaStore("arena-media", endpoint_url=f"http://127.0.0.1:{_free_port()}", max_attempts=1, timeout_s=2)
    for call in (lambda: s3.put(PNG), lambda: s3.get("1" * 64), s3.check):
        with pytest.raises(StorageError, match="unreachable") as info:
            call()
        assert info.value.detail == {"reason": "unreachable"}
    assert "arena-test-secret" not in caplog.text and "arena-test-key" not in caplog.text


def test_store_pickles_without_client_or_credentials(store: S3MediaStore) -> None:
    sha = store.put(PNG)
    blob = pickle.dumps(store)  # release workers receive the store inside their job
    assert b"arena-test-secret" not in blob and b"arena-test-key" not in blob
    assert pickle.loads(blob).get(sha) == PNG
    assert "secret" not in repr(store)


def test_config_media_table_and_credentials_only_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "arena.toml"
    config.write_text(
        '[media]\nbackend = "s3"\nendpoint_url = "http://127.0.0.1:9000"\nbucket = "arena-media"\n'
        'region = "eu-west-1"\nprefix = "prod/"\n'
    )
    settings = load_settings({}, cwd=tmp_path)
    assert settings.media == MediaSettings("s3", "http://127.0.0.1:9000", "arena-media", "eu-west-1", "prod/")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"):
        build_media_store(settings)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    built = build_media_store(settings)
    assert isinstance(built, S3MediaStore) and (built.bucket, built.prefix, built.region) == (
        "arena-media",
        "prod/",
        "eu-west-1",
    )
    assert isinstance(build_media_store(Settings(data_dir=tmp_path)), LocalMediaStore)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('backend = "nfs"', "not supported"),
        ('backend = "s3"', "needs a bucket"),
        ('backend = "s3"\nbucket = "Bad_Bucket"', "not a valid bucket name"),
        ('backend = "s3"\nbucket = "arena-media"\nendpoint_url = "minio:9000"', "http://"),
        ('backend = "s3"\nbucket = "arena-media"\nendpoint_url = "http://k:s@minio:9000"', "credentials"),
        ('backend = "s3"\nbucket = "arena-media"\naws_secret_access_key = "x"', "looks like a credential"),
        ('backend = "s3"\nbucket = "arena-media"\nprefix = "a b"', "prefix"),
        ("bogus = 1", "unknown key 'bogus'"),
    ],
)
def test_bad_media_table_fails_fast(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "arena.toml").write_text(f"[media]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, cwd=tmp_path)


def test_local_store_implements_the_whole_interface(tmp_path: Path) -> None:
    local: MediaStore = LocalMediaStore(tmp_path)
    sha = local.put(PNG)
    assert local.exists(sha) and local.size(sha) == len(PNG) and not local.exists("f" * 64)
    blob = local.open(sha)
    assert (blob.mime, blob.size, b"".join(blob.chunks)) == ("image/png", len(PNG), PNG)
    with pytest.raises(NotFoundError):
        local.open("f" * 64)


@pytest.fixture
def s3_client(make_services: Any, settings: Settings, endpoint: str, bucket: str, credentials: None) -> TestClient:
    """The whole app (built-in offline models) with media in the moto bucket."""
    S3MediaStore(bucket, endpoint_url=endpoint).ensure_bucket()
    media = MediaSettings(backend="s3", endpoint_url=endpoint, bucket=bucket, prefix="m", max_attempts=1)
    services = make_services(media=media, include_builtin_models=True)
    assert isinstance(services.media, S3MediaStore)
    from arena.server import create_app

    return TestClient(create_app(services.settings, services))


def test_image_battle_stores_in_the_bucket_and_media_route_serves_it(s3_client: TestClient, settings: Settings) -> None:
    with s3_client as client:
        body = client.post(
            "/api/battles", json={"arena": "image", "prompt": "A red house under a yellow sun", "voter": VOTER}
        )
        assert body.status_code == 200, body.text
        services = client.app.state.services  # type: ignore[attr-defined]
        store: S3MediaStore = services.media
        keys = {o["Key"] for o in store._s3().list_objects_v2(Bucket=store.bucket).get("Contents", [])}
        urls = [body.json()["responses"][side]["media_url"] for side in ("a", "b")]
        assert all(urls), body.json()
        for url in urls:
            sha = url.rsplit("/", 1)[1]
            assert f"m/{sha[:2]}/{sha}" in keys
            served = client.get(url)
            assert served.status_code == 200 and served.headers["content-type"] == "image/png"
            assert hashlib.sha256(served.content).hexdigest() == sha
            assert served.headers["content-length"] == str(len(served.content))
            assert "immutable" in served.headers["cache-control"]
        assert not (settings.data_dir / "media").exists(), "nothing may be written to the local media folder"
        missing = client.get(f"/media/{'e' * 64}")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"


def test_media_route_streams_from_the_local_store_too(make_services: Any) -> None:
    services = make_services()
    sha = services.media.put(WAV)
    from arena.server import create_app

    with TestClient(create_app(services.settings, services)) as client:
        served = client.get(f"/media/{sha}")
        alias = client.get(f"/api/media/{sha}")
    assert served.status_code == 200 and served.content == WAV and served.headers["content-type"] == "audio/wav"
    assert served.headers["etag"] == f'"{sha}"' and alias.content == WAV


def test_media_route_answers_503_when_the_store_is_down(make_services: Any, credentials: None) -> None:
    media = MediaSettings(
        backend="s3", endpoint_url=f"http://127.0.0.1:{_free_port()}", bucket="arena-media", max_attempts=1, timeout_s=2
    )
    services = make_services(media=media)
    from arena.server import create_app

    with TestClient(create_app(services.settings, services)) as client:
        answer = client.get(f"/media/{'a' * 64}")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["type"] == "StorageError" and error["reason"] == "unreachable" and "try again" in error["message"]


@pytest.mark.parametrize("workers", [1, 2])
def test_release_copies_media_from_the_bucket(
    make_services: Any, endpoint: str, bucket: str, credentials: None, workers: int
) -> None:
    from arena.db import repo
    from arena.db.engine import write_session
    from arena.services.releases import ReleaseService
    from tests.services.release_seed import T0, Seed, insert, voter_id

    S3MediaStore(bucket, endpoint_url=endpoint).ensure_bucket()
    services = make_services(media=MediaSettings(backend="s3", endpoint_url=endpoint, bucket=bucket))
    sha = services.media.put(PNG)
    absent = "ab" * 32
    with write_session(services.sessions) as session:
        repo.upsert_media(session, sha, "image/png", len(PNG), {})
        repo.upsert_media(session, absent, "image/png", 3, {})
    insert(
        services,
        [
            Seed(
                voter=voter_id(1),
                arena="image",
                model_a="pattern-painter",
                model_b="scene-sketcher",
                responses=[("", "")],
                media=[(sha, absent)],
            )
        ],
    )
    # Workers > 1 pickle the store into spawned processes, which make their own client from the environment.
    releases = ReleaseService(services.sessions, services.settings, services.catalog, services.media, workers=workers)
    folder = Path(releases.build(until=T0 + timedelta(days=30))["path"])
    assert (folder / "media" / f"{sha}.png").read_bytes() == PNG
    assert not (folder / "media" / f"{absent}.png").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["media"] == {"bytes": len(PNG), "files": 1, "missing": 1}


def test_compose_example_matches_the_code(tmp_path: Path) -> None:
    """deploy/: every variable the app services set is one Arena reads, and the mounted config loads."""
    yaml = pytest.importorskip("yaml")
    from arena.config import ENV_VARS
    from arena.media_s3 import CREDENTIAL_VARS

    root = Path(__file__).resolve().parents[1]
    compose = yaml.safe_load((root / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    known = {var for _name, var, _help in ENV_VARS} | set(CREDENTIAL_VARS)
    apps = [name for name, svc in services.items() if svc.get("build")]
    assert {"migrate", "app1", "app2"} <= set(apps)
    for name in apps:
        env = services[name]["environment"]
        assert set(env) <= known, f"{name} sets variables Arena does not read: {set(env) - known}"
        assert set(CREDENTIAL_VARS) <= set(env) and env["ARENA_DATABASE_URL"].startswith("postgresql+psycopg://")
        mount = next(v for v in services[name]["volumes"] if v.endswith(f":{env['ARENA_CONFIG']}:ro"))
        assert mount.startswith("./arena.compose.toml:")
    assert "arena db upgrade" in services["migrate"]["command"][-1]
    assert "python -m arena.media_bucket" in services["migrate"]["command"][-1]
    settings = load_settings({"ARENA_CONFIG": str(root / "deploy" / "arena.compose.toml")}, cwd=tmp_path)
    assert settings.media.backend == "s3"
    assert settings.media.endpoint_url.split("//", 1)[1].split(":", 1)[0] in services
    proxy_ip = services["proxy"]["networks"]["arena"]["ipv4_address"]
    assert settings.trusted_proxies == (proxy_ip,)
    nginx = (root / "deploy" / "nginx.conf").read_text()
    assert "$proxy_add_x_forwarded_for" in nginx and all(f"server {app}:7860" in nginx for app in ("app1", "app2"))
