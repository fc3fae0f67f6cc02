"""Known-answer tests for the structured-PII detectors and their checksums."""

from __future__ import annotations

import pytest

from arena.privacy.detectors import (
    PiiKind,
    Span,
    detect,
    entropy_bits,
    iban_ok,
    isbn13_ok,
    luhn_ok,
    resolve_overlaps,
)


def kinds(text: str) -> list[tuple[PiiKind, str]]:
    return [(s.kind, text[s.start : s.end]) for s in detect(text)]


def test_checksums_known_answers() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and iban_ok("DE89370400440532013000")
    assert not iban_ok("GB82WEST12345698765433")
    assert isbn13_ok("9783161484100") and not isbn13_ok("9783161484101")
    assert entropy_bits("aaaa") == 0.0 and entropy_bits("abcd") == 2.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mail jordan.blake@example.org now", "jordan.blake@example.org"),
        ("Jöran.Ström@exämple.org", "Jöran.Ström@exämple.org"),
        ("write to jo [at] example [dot] org", "jo [at] example [dot] org"),
        ("write to jo at example dot org", "jo at example dot org"),
    ],
)
def test_emails(text: str, value: str) -> None:
    assert (PiiKind.EMAIL, value) in kinds(text)


@pytest.mark.parametrize(
    "phone",
    [
        "+1 555 010 4477",
        "(555) 010-4477",
        "555.010.4477",
        "555-010-4477",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "+1-555-010-4477",
        "+15550104477",
        "555-0104",
        "01 23 45 67 89",
    ],
)
def test_phones_in_any_format(phone: str) -> None:
    assert kinds(f"call me on {phone}, thanks") == [(PiiKind.PHONE, phone)]


def test_phone_keyword_catches_unseparated_digits() -> None:
    assert kinds("my phone: 5550104477") == [(PiiKind.PHONE, "5550104477")]
    assert kinds("the number 2147483647 is INT_MAX") == []


def test_same_phone_different_formats_share_a_key() -> None:
    keys = {s.key for f in ("+1 555 010 4477", "(555) 010-4477", "555.010.4477") for s in detect(f"x {f} y")}
    assert keys == {"5550104477"}


@pytest.mark.parametrize("ip", ["198.51.100.23", "198-51-100-23", "198_51_100_23", "203.0.113.42"])
def test_ipv4_with_any_separator(ip: str) -> None:
    spans = detect(f"from {ip} again")
    assert [(s.kind, s.key) for s in spans] == [(PiiKind.IP, ip.replace("-", ".").replace("_", "."))]


@pytest.mark.parametrize("ip", ["2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1ff:fe23:4567:890a"])
def test_ipv6(ip: str) -> None:
    assert kinds(f"addr {ip} here") == [(PiiKind.IP, ip)]


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1:8000",
        "0.0.0.0",
        "255.255.255.0",
        "::1",
        "x[::2]",
        "a[1::3]",
        "12:30:45",
        "std::vector",
        "v1.2.3.4",
        "version 10.0.0.1",
        "ff:ff:ff:ff:ff:ff",
        "2024-08-14T10:30:00Z",
    ],
)
def test_non_personal_addresses_and_lookalikes_are_kept(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("card 4111 1111 1111 1111 exp", "4111111111111111"),
        ("card 4111-1111-1111-1111", "4111111111111111"),
        ("amex 3782-822463-10005", "378282246310005"),
        ("raw 5555555555554444 ok", "5555555555554444"),
        ("grouped but not Luhn 4111 1111 1111 1112", "4111111111111112"),
    ],
)
def test_cards(text: str, digits: str) -> None:
    assert [(s.kind, s.key) for s in detect(text)] == [(PiiKind.CARD, digits)]


def test_unformatted_non_luhn_numbers_and_isbns_are_not_cards() -> None:
    assert detect("id 4111111111111112 and ISBN 978-3-16-148410-0 and 9783161484100") == []


@pytest.mark.parametrize(
    "key",
    [
        "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "sk-proj-Abc123_def456-GHI789jkl012MNO345pqr678",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "gho_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV",
        "AKIAIOSFODNN7EXAMPLE",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
        "xoxp-12345678901-abcdefghijklmnopqrst",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_vendor_keys(key: str) -> None:
    assert kinds(f"key: {key} (do not share)") == [(PiiKind.KEY, key)]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token=ed4e4234bce3b7bc0b66d65d20da4a472514e891", "ed4e4234bce3b7bc0b66d65d20da4a472514e891"),
        ("password=hunter22", "hunter22"),
        ('"password": "s3cr3t!"', "s3cr3t!"),
        ("my password is Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        ("SECRET_KEY = 'django-insecure-4b9x2kq8m1z7'", "django-insecure-4b9x2kq8m1z7"),
        ("Authorization: Bearer abc.DEF123ghi456JKL789", "abc.DEF123ghi456JKL789"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        (
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("blob Zk3mQ9xR2vT7wY4pL8nB5cH1jD6fG0sA2eK9 end", "Zk3mQ9xR2vT7wY4pL8nB5cH1jD6fG0sA2eK9"),
    ],
)
def test_keyword_and_high_entropy_secrets(text: str, secret: str) -> None:
    assert (PiiKind.KEY, secret) in kinds(text)


@pytest.mark.parametrize(
    "code",
    [
        'api_key = os.environ["OPENAI_API_KEY"]',
        "password = getpass.getpass()",
        "self.password = password",
        'password="your_password"',
        "sorted(rows, key=lambda r: r[1]); max_tokens=4096",
        "commit 3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request 550e8400-e29b-41d4-a716-446655440000",
    ],
)
def test_code_and_digests_are_not_secrets(code: str) -> None:
    assert detect(code) == []


def test_urls_with_credentials_only() -> None:
    text = (
        "see https://docs.python.org/3/library/re.html?highlight=search and "
        "https://app.example.org/reset?user=7&token=abcdef123456. Also https://u:pw@example.org/x and "
        "https://www.linkedin.com/in/jordan-blake-123 and https://example.com/a?keyword=python and "
        "postgres://admin:S3cretPass@db.example.org:5432/app"
    )
    found = kinds(text)
    assert [k for k, _ in found] == [PiiKind.URL] * 4
    assert found[0][1] == "https://app.example.org/reset?user=7&token=abcdef123456"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("SSN 123-45-6789.", "123-45-6789"),
        ("ssn 123 45 6789", "123 45 6789"),
        ("NI number AB 12 34 56 C", "AB 12 34 56 C"),
        ("NINO AB123456C", "AB123456C"),
        ("IBAN GB82 WEST 1234 5698 7654 32 ok", "GB82 WEST 1234 5698 7654 32"),
        ("IBAN DE89370400440532013000", "DE89370400440532013000"),
        ("my passport number is X12345678", "X12345678"),
        ("wifi client 3c:22:fb:9a:1e:07 joined", "3c:22:fb:9a:1e:07"),
        ("NIC 3C-22-FB-9A-1E-07", "3C-22-FB-9A-1E-07"),
    ],
)
def test_national_ids(text: str, value: str) -> None:
    assert (PiiKind.ID, value) in kinds(text)


def test_invalid_ids_are_kept() -> None:
    assert detect("666-12-3456 and 123-00-4567 and GB82WEST12345698765433 and BG 12 34 56 A") == []


def test_overlaps_keep_the_longest_then_priority() -> None:
    spans = [
        Span(0, 10, PiiKind.PHONE, "a"),
        Span(0, 20, PiiKind.URL, "b"),
        Span(25, 30, PiiKind.IP, "c"),
        Span(25, 30, PiiKind.KEY, "d"),
    ]
    assert [s.key for s in resolve_overlaps(spans)] == ["b", "d"]
