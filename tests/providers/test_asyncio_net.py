"""The providers' asyncio transport: keep-alive reuse, a server-closed idle connection replaced, typed timeouts,
and the fallback to httpx's default transport when proxy variables are set. (Every provider test that uses
the `generate` fixture also runs on this transport.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import httpcore
import httpx
import pytest
import uvloop

from arena.providers.asyncio_net import HAPPY_EYEBALLS_DELAY_S, AsyncioBackend, AsyncioTransport, provider_client
from tests.providers.conftest import LocalServer

LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)


async def _peer_port(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the client's source port, so a test can tell connections apart."""
    if scope["type"] != "http":
        return
    body = str(scope["client"][1]).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_connections_are_reused_and_a_closed_one_is_replaced(serve: Callable[..., LocalServer]) -> None:
    server = serve(_peer_port)

    async def run() -> tuple[str, str, str]:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            first = (await client.get(f"{server.url}/a")).text
            second = (await client.get(f"{server.url}/b")).text
            # Close the pooled connection from the server's side, as a restarting server would.
            pool = client._transport._pool  # type: ignore[attr-defined]
            for connection in pool.connections:
                stream = connection._connection._network_stream
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            await asyncio.sleep(0.05)
            third = (await client.get(f"{server.url}/c")).text
            return first, second, third

    first, second, third = asyncio.run(run())
    assert first == second  # one keep-alive connection for both
    assert third != first  # the dead one was not reused


def test_connect_and_read_timeouts_are_httpx_timeouts(serve: Callable[..., LocalServer]) -> None:
    async def hang(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(30)

    server = serve(hang)

    async def read() -> None:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            await client.get(f"{server.url}/slow", timeout=httpx.Timeout(5.0, read=0.2))

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(read())

    async def refused(port: int) -> None:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        asyncio.run(refused(port))


def test_proxy_variables_keep_httpx_default_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    timeout = httpx.Timeout(5.0)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    plain = provider_client(LIMITS, timeout)
    assert isinstance(plain._transport, AsyncioTransport)  # type: ignore[attr-defined]
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    proxied = provider_client(LIMITS, timeout)
    assert not isinstance(proxied._transport, AsyncioTransport)  # type: ignore[attr-defined]
    asyncio.run(plain.aclose())
    asyncio.run(proxied.aclose())


def _tls_server(tmp_path: Any) -> tuple[Any, str, str]:
    """An HTTPS server on 127.0.0.1 with a fresh self-signed certificate; (server, url, certificate file)."""
    import ipaddress
    import ssl
    import threading
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arena test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"over tls"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *_args: None  # type: ignore[method-assign]  # the refused handshake is expected
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_address[1]}", str(cert_file)


def test_https_is_verified_and_served_over_tls(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server, url, cert_file = _tls_server(tmp_path)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            return await client.get(f"{url}/", timeout=5.0)

    try:
        # A certificate nobody vouches for is refused with a connect error (no hang, nothing sent).
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
            asyncio.run(get())
        # Trusted (as a private CA would be, through SSL_CERT_FILE), the same server answers over TLS.
        monkeypatch.setenv("SSL_CERT_FILE", cert_file)
        response = asyncio.run(get())
        assert response.status_code == 200 and response.text == "over tls"
    finally:
        server.shutdown()
        server.server_close()


def test_connect_uses_happy_eyeballs_and_refused_socket_options_are_connect_errors(
        serve: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(_peer_port)
    port = int(server.url.rsplit(":", 1)[1])
    seen: list[dict[str, Any]] = []
    real = asyncio.open_connection

    async def spy(*args: Any, **kwargs: Any) -> Any:  # the real connect, with its arguments recorded
        seen.append(kwargs)
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "open_connection", spy)
    backend = AsyncioBackend()

    async def run() -> None:
        stream = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        await stream.aclose()
        with pytest.raises(httpcore.ConnectError, match="socket option refused"):
            await backend.connect_tcp("127.0.0.1", port, timeout=5, socket_options=[(0xDEAD, 0xBEEF, 1)])

    asyncio.run(run())
    assert [k["happy_eyeballs_delay"] for k in seen] == [HAPPY_EYEBALLS_DELAY_S] * 2
    # The server runs on uvloop, whose create_connection has no happy-eyeballs argument: still connects.
    seen.clear()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run())
    assert seen and all("happy_eyeballs_delay" not in k for k in seen)
