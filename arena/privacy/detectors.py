"""Regex-and-checksum detectors for structured personal data: emails, phones, cards, IPs, keys, URLs, ids.

Each detector returns candidate spans with a *normalised key* (the same phone written two ways gets the
same key) so the scrubber can give one value one placeholder. Checksums (Luhn, IBAN mod-97, ISBN) and
validation (`ipaddress`) keep ordinary numbers - versions, dates, prices, ISBNs - out of the net.
Names are not here: they need the lexicon and cue rules in `arena.privacy.names`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit


class PiiKind(StrEnum):
    """Placeholder families; the value is the placeholder prefix (NAME_1, EMAIL_2, ...)."""

    NAME = "NAME"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    IP = "IP"
    CARD = "CARD"
    KEY = "KEY"
    URL = "URL"
    ID = "ID"


@dataclass(frozen=True, slots=True)
class Span:
    """A detected value: text[start:end] is replaced; `key` identifies the value across formattings."""

    start: int
    end: int
    kind: PiiKind
    key: str


# When two candidates overlap the longer wins; on equal length the earlier kind here wins.
PRIORITY: tuple[PiiKind, ...] = (
    PiiKind.KEY,
    PiiKind.URL,
    PiiKind.EMAIL,
    PiiKind.CARD,
    PiiKind.ID,
    PiiKind.IP,
    PiiKind.PHONE,
)

_SENSITIVE_PARAM = re.compile(
    r"(?i)^(?:.*[_.-])?(?:token|access_?token|refresh_?token|id_?token|key|api_?key|apikey|secret|"
    r"client_?secret|session|session_?id|sessionid|sid|sig|signature|password|passwd|pwd|pass|auth|"
    r"authorization|credentials?|otp|jwt)$"
)
_SOCIAL_HOSTS = ("linkedin.com", "facebook.com", "instagram.com", "twitter.com", "x.com", "tiktok.com")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+", re.IGNORECASE)

_EMAIL = re.compile(r"(?<![\w.%+-])[\w][\w.%+-]*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])")
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)(?<![\w.+-])[\w.+-]+(?:\s*[\[({<]\s*dot\s*[\])}>]\s*[\w.+-]+)*"
    r"\s*[\[({<]\s*at\s*[\])}>]\s*[\w-]+(?:\s*[\[({<]\s*dot\s*[\])}>]\s*[\w-]+)+"
    r"|(?<![\w.+-])[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[a-z]{2,})+\b"
)

_VENDOR_KEY = re.compile(
    r"(?=[sghAxprne])(?<![A-Za-z0-9_-])(?:"
    r"sk-(?:proj-|svcacct-|admin-|ant-[a-z]+\d*-)?[A-Za-z0-9_-]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
    r"|(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}"
    r"|hf_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_-]{35}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r")(?![A-Za-z0-9_-])"
)
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_BEARER = re.compile(r"(?i)(?:\bbearer|\bauthorization:\s*basic)\s+([A-Za-z0-9._~+/-]{12,}=*)")
_SECRET_KV = re.compile(
    r"(?i)(?=[tskpca])(?P<kw>token|secret|key|passw(?:or)?d|passphrase|pwd|credential|auth)[\w.-]{0,40}"
    r"[\"']?\s*(?:=|:=|=>|:|\s(?:is|was)\s)\s*(?P<q>[\"'`]?)(?P<val>[^\s\"'`,;<>(){}\[\]]{4,})"
)
_SECRET_HINTS = ("token", "secret", "key", "passw", "passphrase", "pwd", "credential", "auth")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)^(?:your|my|the|example|sample|dummy|test|fake|placeholder|changeme|redacted|none|null|true|false|"
    r"os\.|env|process\.|settings\.|config\.|self\.|\$|%|\*|x{3,}|<|\{)"
)
_GENERIC_TOKEN = re.compile(r"(?=[A-Za-z0-9+/_-])(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_=-])")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(
    rf"(?=\d)(?<![0-9])(?<![0-9][._-]){_OCTET}(?P<sep>[._-]){_OCTET}(?P=sep){_OCTET}(?P=sep){_OCTET}"
    r"(?![0-9])(?![._-][0-9])"
)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w:])"
)

_CARD = re.compile(r"(?=\d)(?<![\d.,-])\d(?:[ -]?\d){12,18}(?![\d])(?![ -]\d)")
_CARD_GROUPED = re.compile(r"\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5}")

_PHONE_PATTERNS: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # (pattern, fewest digits, most digits): +international, North American, 7-digit local, trunk-0 national
    (re.compile(r"(?=\+)(?<![\w+])\+\d{1,3}+(?:[ .-]?(?:\(\d{1,5}\)|\d++)){1,6}+(?!\d)"), 9, 15),
    (re.compile(r"(?=[\d(])(?<![\w.+/-])(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]\d{4}(?![\w-]|\.\d)"), 10, 11),
    (re.compile(r"(?=\d)(?<![\w.+/-])\d{3}-\d{4}(?![\w-]|\.\d)"), 7, 7),
    (re.compile(r"(?=[(0])(?<![\w.+/-])\(?0\d{1,4}\)?(?:[ .-]\d{2,8}){1,5}(?![\w-]|\.\d)"), 9, 12),
)
_PHONE_KEYWORD = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|whatsapp|sms|fax|call me|text me|reach me)\b[^\d\n]{0,20}"
    r"(?P<num>\+?\d{9,15})(?!\d)"
)
_DATE_INSIDE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}")

_SSN = re.compile(r"(?=\d)(?<![\w-])(?!000|666)\d{3}(?P<s>[- ])(?!00)\d{2}(?P=s)(?!0000)\d{4}(?![\w-])")
_NINO = re.compile(
    r"(?=[A-Z])(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_IBAN = re.compile(r"(?=[A-Z])(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_MAC = re.compile(
    r"(?=[0-9A-Fa-f])(?<![\w:-])[0-9A-Fa-f]{2}(?P<s>[:-])(?:[0-9A-Fa-f]{2}(?P=s)){4}[0-9A-Fa-f]{2}(?![\w:-])"
)
_ID_KEYWORD = re.compile(
    r"(?i)\b(?:ssn|social security(?: number| no\.?)?|passport(?: number| no\.?)?|national (?:id|insurance)"
    r"(?: number| no\.?)?|(?:driver'?s? )?licen[cs]e (?:number|no\.?)|tax (?:id|number)|id number|"
    r"personal (?:id|number)|aadhaar|nric)\s*(?:is|:|#|=|-)?\s*"
    r"(?P<val>[A-Za-z0-9][A-Za-z0-9-]{3,20}(?: \d{2,6}){0,3})"
)

_PHONE_HINTS = ("phone", "tel", "mobile", "cell", "whatsapp", "sms", "fax", "call me", "text me", "reach me")
_ID_HINTS = (
    "ssn",
    "social security",
    "passport",
    "national",
    "licen",
    "tax ",
    "id number",
    "personal",
    "aadhaar",
    "nric",
)


@dataclass(frozen=True, slots=True)
class TextView:
    """A text with the cheap facts detectors use to skip work: its lowercase form and digit count."""

    text: str
    lower: str
    digits: int

    @classmethod
    def of(cls, text: str) -> TextView:
        if text.isascii():
            raw = text.encode("ascii")
            return cls(text, text.lower(), len(raw) - len(raw.translate(None, b"0123456789")))
        return cls(text, text.lower(), sum(map(str.isdigit, text)))


Detector = Callable[[TextView], Iterator[Span]]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616 mod-97 check on an IBAN without spaces."""
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def isbn13_ok(digits: str) -> bool:
    """ISBN-13 check digit (978/979 prefix), so ISBNs are never mistaken for cards or phones."""
    if len(digits) != 13 or digits[:3] not in ("978", "979"):
        return False
    return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(digits)) % 10 == 0


def entropy_bits(value: str) -> float:
    """Shannon entropy per character of the character distribution."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _strip_url(url: str) -> str:
    url = url.rstrip(".,;:!?'\"")
    while url.endswith((")", "]")) and url.count(url[-1]) > url.count("(" if url[-1] == ")" else "["):
        url = url[:-1].rstrip(".,;:!?")
    return url


def _url_is_sensitive(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        hostname = parts.hostname
    except ValueError:  # a malformed "[...]" host: replace the whole URL rather than fail the release
        return True
    if parts.username or parts.password:
        return True
    host = (hostname or "").removeprefix("www.")
    if host in _SOCIAL_HOSTS and parts.path.strip("/"):
        return True
    params = parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(parts.fragment, keep_blank_values=True)
    return any(_SENSITIVE_PARAM.match(name) and value for name, value in params)


def find_urls(view: TextView) -> Iterator[Span]:
    """URLs that carry credentials or identify a person (token-like parameters, userinfo, social profiles)."""
    text = view.text
    if "://" not in text and "www." not in view.lower:
        return
    for m in _URL.finditer(text):
        url = _strip_url(m.group())
        if _url_is_sensitive(url):
            yield Span(m.start(), m.start() + len(url), PiiKind.URL, url)


def find_emails(view: TextView) -> Iterator[Span]:
    """Email addresses, including Unicode ones and '[at]'/'dot' obfuscations."""
    text = view.text
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield Span(m.start(), m.end(), PiiKind.EMAIL, m.group().lower())
    if "dot" in view.lower and "at" in view.lower:
        for m in _EMAIL_OBFUSCATED.finditer(text):
            key = re.sub(
                r"\s*[\[({<]?\s*\b(at|dot)\b\s*[\])}>]?\s*",
                lambda g: "@" if g[1].lower() == "at" else ".",
                m.group(),
                flags=re.IGNORECASE,
            )
            yield Span(m.start(), m.end(), PiiKind.EMAIL, key.lower())


def _secret_value_ok(keyword: str, value: str, quoted: bool) -> bool:
    if _PLACEHOLDER_VALUE.match(value) or value.startswith(("KEY_", "URL_")):
        return False
    if re.search(r"(?i)pass|pwd", keyword):
        varied = bool(re.search(r"[\d\W_]", value)) or not (value.islower() or value.istitle())
        return (quoted and len(value) >= 4) or (len(value) >= 6 and varied)
    if len(value) < 16 or not re.fullmatch(r"[A-Za-z0-9_\-+/=.~]+", value):
        return False
    letters = sum(ch.isalpha() for ch in value)
    digits = sum(ch.isdigit() for ch in value)
    return (digits >= 2 and letters >= 4) or entropy_bits(value) >= 3.5


def find_keys(view: TextView) -> Iterator[Span]:
    """API keys, tokens, private keys and keyword-introduced secrets (`password=...`, `api_key: ...`)."""
    text = view.text
    for m in _VENDOR_KEY.finditer(text):
        yield Span(m.start(), m.end(), PiiKind.KEY, m.group())
    if "PRIVATE KEY" in text:
        for m in _PEM.finditer(text):
            yield Span(m.start(), m.end(), PiiKind.KEY, m.group())
    for m in _GENERIC_TOKEN.finditer(text):
        tok = m.group()
        classes = (sum(c.isupper() for c in tok), sum(c.islower() for c in tok), sum(c.isdigit() for c in tok))
        if min(classes) >= 2 and entropy_bits(tok) >= 4.0 and tok.count("/") * 10 <= len(tok):
            yield Span(m.start(), m.end(), PiiKind.KEY, tok)
    if "bearer" in view.lower or "basic" in view.lower:
        for m in _BEARER.finditer(text):
            yield Span(m.start(1), m.end(1), PiiKind.KEY, m.group(1))
    if not any(hint in view.lower for hint in _SECRET_HINTS):
        return
    for m in _SECRET_KV.finditer(text):
        quoted = bool(m.group("q"))
        value = m.group("val") if quoted else m.group("val").rstrip(".,:")
        if not quoted and (text[m.end("val") : m.end("val") + 1] == "(" or _DOTTED_NAME.fullmatch(value)):
            continue  # code: `password = getpass.getpass()`, `token = request.token`
        if _secret_value_ok(m.group("kw"), value, quoted):
            yield Span(m.start("val"), m.start("val") + len(value), PiiKind.KEY, value)


def find_cards(view: TextView) -> Iterator[Span]:
    """Payment cards: card-style groups (4-4-4-4, 4-6-5) always; other digit runs when Luhn-valid."""
    if view.digits < 13:
        return
    for m in _CARD.finditer(view.text):
        digits = _digits(m.group())
        grouped = _CARD_GROUPED.fullmatch(m.group()) is not None
        if grouped or (digits[0] in "23456" and luhn_ok(digits) and not isbn13_ok(digits)):
            yield Span(m.start(), m.end(), PiiKind.CARD, digits)


def find_ips(view: TextView) -> Iterator[Span]:
    """IPv4 (with '.', '-' or '_' separators) and IPv6 addresses, except loopback/unspecified/netmasks."""
    text = view.text
    for m in _IPV4.finditer(text) if view.digits >= 4 else ():
        if (m.start() > 0 and text[m.start() - 1] in "vV") or "version" in view.lower[
            max(0, m.start() - 20) : m.start()
        ]:
            continue  # a four-part version number, not an address
        addr = ipaddress.IPv4Address(m.group().replace(m.group("sep"), "."))
        if not (addr.is_loopback or addr.is_unspecified or str(addr).startswith("255.")):
            yield Span(m.start(), m.end(), PiiKind.IP, str(addr))
    if text.count(":") < 2:
        return
    for m in _IPV6.finditer(text):
        try:
            addr6 = ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        groups = [g for g in m.group().split(":") if g]
        wide = len(groups) >= 3 or (len(groups) == 2 and len(groups[0]) >= 3)
        if wide and not (addr6.is_loopback or addr6.is_unspecified):
            yield Span(m.start(), m.end(), PiiKind.IP, addr6.compressed)


def find_phones(view: TextView) -> Iterator[Span]:
    """Phone numbers: +international, North American, trunk-0 national formats, keyword-led digit runs."""
    text = view.text
    if view.digits < 7:
        return
    for pattern, fewest, most in _PHONE_PATTERNS:
        for m in pattern.finditer(text):
            digits = _digits(m.group())
            if fewest <= len(digits) <= most and not _DATE_INSIDE.search(m.group()) and not isbn13_ok(digits):
                yield Span(m.start(), m.end(), PiiKind.PHONE, digits[-10:])
    if view.digits < 9 or not any(hint in view.lower for hint in _PHONE_HINTS):
        return
    for m in _PHONE_KEYWORD.finditer(text):
        digits = _digits(m.group("num"))
        yield Span(m.start("num"), m.end("num"), PiiKind.PHONE, digits[-10:])


def find_ids(view: TextView) -> Iterator[Span]:
    """Id numbers: US SSN/ITIN, UK NINO, checksummed IBANs, device MAC addresses, keyword-introduced ids."""
    text = view.text
    if view.text.count(":") >= 5 or view.text.count("-") >= 5:
        for m in _MAC.finditer(text):
            key = m.group().replace("-", ":").lower()
            if key not in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
                yield Span(m.start(), m.end(), PiiKind.ID, key)
    if view.digits < 4:
        return
    for m in _SSN.finditer(text) if view.digits >= 9 else ():
        yield Span(m.start(), m.end(), PiiKind.ID, _digits(m.group()))
    for m in _NINO.finditer(text):
        yield Span(m.start(), m.end(), PiiKind.ID, m.group().replace(" ", ""))
    for m in _IBAN.finditer(text):
        compact = m.group().replace(" ", "")
        if iban_ok(compact):
            yield Span(m.start(), m.end(), PiiKind.ID, compact)
    if not any(hint in view.lower for hint in _ID_HINTS):
        return
    for m in _ID_KEYWORD.finditer(text):
        if len(_digits(m.group("val"))) >= 4:
            yield Span(m.start("val"), m.end("val"), PiiKind.ID, m.group("val").replace(" ", "").upper())


DETECTORS: tuple[Detector, ...] = (find_keys, find_urls, find_emails, find_cards, find_ids, find_ips, find_phones)


def resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep a non-overlapping subset: longer spans first, then by kind priority; result sorted by start."""
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, rank.get(s.kind, 99), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def detect(text: str) -> list[Span]:
    """All structured-PII spans in `text`, overlaps resolved."""
    view = TextView.of(text)
    spans = [span for detector in DETECTORS for span in detector(view)]
    return resolve_overlaps(spans) if spans else []
