"""Seeded generators for the privacy test corpora: conversations with planted personal data, and clean texts.

Every planted value is invented and drawn from reserved or fictional ranges: IPs from the
documentation blocks 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32, phones from the
North American 555-01xx fiction range and Ofcom's drama ranges (020 7946 0xxx, 07700 900xxx), emails
at example.org/.com/.net, Luhn-valid card numbers and checksummed IBANs computed here, and keys made
of random characters in the vendors' formats.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

# Census first names (found by the lexicon without a cue) and names outside the list (need a cue).
LEXICON_FIRST = (
    "Jordan",
    "Emily",
    "Michael",
    "Sarah",
    "Daniel",
    "Olivia",
    "Kevin",
    "Rachel",
    "Marcus",
    "Hannah",
    "Tyler",
    "Natalie",
    "Gregory",
    "Monica",
    "Derek",
    "Vanessa",
    "Howard",
    "Bianca",
)
CUE_ONLY_FIRST = (
    "Priya",
    "Oluwaseun",
    "Siobhan",
    "Anjali",
    "Thandiwe",
    "Kenji",
    "Ngozi",
    "Aarav",
    "Yusuf",
    "Ingrid",
    "Mateus",
    "Saoirse",
    "Zofia",
    "Rahul",
    "Leilani",
    "Dmitri",
)
SURNAMES = (
    "Blake",
    "Raman",
    "Okafor",
    "Novak",
    "Castillo",
    "Lindqvist",
    "Haddad",
    "Kowalski",
    "Brennan",
    "Nakamura",
    "Achterberg",
    "Moreau",
    "Oyelaran",
    "Fitzgerald",
    "Varga",
    "Quintero",
    "Halvorsen",
)
NAME_CUES = (
    "I'm {full}",
    "my name is {full}",
    "my colleague {full}",
    "my landlord, {full},",
    "Dear {first}",
    "Mr. {last}",
    "my friend {full}",
    "I am {full}",
)


@dataclass(frozen=True)
class Planted:
    """One planted value: its kind, the string written in the text, every formatting that must vanish."""

    kind: str
    written: str
    variants: tuple[str, ...]
    alternates: tuple[str, ...] = ()

    def writing(self, rng: np.random.Generator) -> str:
        """The value as one text of the conversation writes it (another formatting when there is one)."""
        return _pick(rng, self.alternates) if self.alternates else self.written


@dataclass
class PlantedCase:
    """A battle's texts (prompt, reply A, reply B, feedback) and what was planted in them."""

    texts: list[str]
    planted: list[Planted] = field(default_factory=list)


def _pick(rng: np.random.Generator, items: tuple[str, ...] | list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _rand(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(len(alphabet), size=n))


def luhn_complete(body: str) -> str:
    """Append the Luhn check digit to `body`."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def iban_with_check(country: str, bban: str) -> str:
    """An IBAN with correct ISO 13616 check digits."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def isbn13(rng: np.random.Generator) -> str:
    body = "978" + _rand(rng, string.digits, 9)
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
    digits = body + str(check)
    return f"{digits[:3]}-{digits[3]}-{digits[4:6]}-{digits[6:12]}-{digits[12]}"


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos : pos + size])
        pos += size
    return sep.join(out)


def make_phone(rng: np.random.Generator) -> Planted:
    forms: tuple[str, ...]
    variants: tuple[str, ...]
    if rng.random() < 0.65:
        a, b, c = str(rng.integers(201, 990)), "555", f"01{int(rng.integers(0, 100)):02d}"
        forms = (
            f"+1 {a} {b} {c}",
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"{a}-{b}-{c}",
            f"+1-{a}-{b}-{c}",
            f"1 {a} {b} {c}",
            f"{a} {b} {c}",
            f"+1 ({a}) {b}-{c}",
        )
        variants = (f"{a} {b} {c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a}{b}{c}", f"{b}-{c}", f"{b} {c}")
    elif rng.random() < 0.5:
        line = f"0{int(rng.integers(0, 1000)):03d}"
        forms = (f"+44 20 7946 {line}", f"020 7946 {line}", f"+44 (0)20 7946 {line}", f"+442079460{line[1:]}")
        variants = (f"7946 {line}", f"7946{line}", f"79460{line[1:]}")
    else:
        line = f"900{int(rng.integers(0, 1000)):03d}"
        forms = (f"+44 7700 {line}", f"07700 {line}", f"+44 7700-{line}")
        variants = (f"7700 {line}", f"7700{line}", f"7700-{line}")
    written = _pick(rng, forms)
    return Planted("PHONE", written, (*forms, *variants), forms)


def make_ip(rng: np.random.Generator) -> Planted:
    if rng.random() < 0.75:
        prefix = _pick(rng, ("192.0.2", "198.51.100", "203.0.113"))
        dotted = f"{prefix}.{int(rng.integers(1, 255))}"
        forms = tuple(dotted.replace(".", s) for s in ".-_")
        return Planted("IP", _pick(rng, (*forms, dotted)), forms, forms)
    groups = ["2001", "db8", *(f"{int(g):x}" for g in rng.integers(0, 65536, size=6))]
    groups[int(rng.integers(3, 6))] = "0"
    full = ":".join(groups)
    import ipaddress

    addr = ipaddress.IPv6Address(full)
    forms = (addr.compressed, full, addr.exploded)
    return Planted("IP", _pick(rng, forms), forms, forms)


def make_card(rng: np.random.Generator) -> Planted:
    kind = int(rng.integers(3))
    if kind == 2:
        digits = luhn_complete(_pick(rng, ("34", "37")) + _rand(rng, string.digits, 12))
        sizes: tuple[int, ...] = (4, 6, 5)
    else:
        prefix = "4" if kind == 0 else f"5{int(rng.integers(1, 6))}"
        digits = luhn_complete(prefix + _rand(rng, string.digits, 15 - len(prefix)))
        sizes = (4, 4, 4, 4)
    forms = (digits, _group(digits, sizes, " "), _group(digits, sizes, "-"))
    return Planted("CARD", _pick(rng, forms), forms, forms)


def make_key(rng: np.random.Generator) -> Planted:
    alnum = string.ascii_letters + string.digits
    b64url = alnum + "-_"
    choices: tuple[Callable[[], str], ...] = (
        lambda: "sk-" + _rand(rng, alnum, 48),
        lambda: "sk-proj-" + _rand(rng, b64url, 64),
        lambda: "ghp_" + _rand(rng, alnum, 36),
        lambda: "gho_" + _rand(rng, alnum, 36),
        lambda: "github_pat_" + _rand(rng, alnum, 22) + "_" + _rand(rng, alnum, 59),
        lambda: "AKIA" + _rand(rng, string.ascii_uppercase + string.digits, 16),
        lambda: "hf_" + _rand(rng, alnum, 34),
        lambda: "AIza" + _rand(rng, b64url, 35),
        lambda: f"xoxb-{_rand(rng, string.digits, 12)}-{_rand(rng, string.digits, 13)}-{_rand(rng, alnum, 24)}",
        lambda: f"xoxp-{_rand(rng, string.digits, 11)}-{_rand(rng, alnum, 20)}",
        lambda: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + _rand(rng, b64url, 40) + "." + _rand(rng, b64url, 43),
    )
    value = choices[int(rng.integers(len(choices)))]()
    return Planted("KEY", value, (value,))


def make_keyword_secret(rng: np.random.Generator) -> Planted:
    """A secret recognisable only by its keyword: returns the whole 'keyword=value' as written."""
    hexd = string.digits + "abcdef"
    forms = (
        ("token=", _rand(rng, hexd, 40)),
        ("secret: ", _rand(rng, string.ascii_letters + string.digits + "+/", 40)),
        ("password=", _rand(rng, string.ascii_letters, 6) + _rand(rng, string.digits, 3) + "!"),
        ("api_key = '", _rand(rng, string.ascii_letters + string.digits, 32)),
        ("DB_PASSWORD: ", _rand(rng, string.ascii_lowercase, 5) + _rand(rng, string.digits, 4)),
        ('"client_secret": "', _rand(rng, hexd, 32)),
    )
    prefix, value = forms[int(rng.integers(len(forms)))]
    closing = "'" if prefix.endswith("'") else ('"' if prefix.endswith('"') else "")
    return Planted("KEY", prefix + value + closing, (value,))


def make_url(rng: np.random.Generator) -> Planted:
    param = _pick(rng, ("token", "api_key", "access_token", "session", "sig", "password", "auth", "key"))
    secret = _rand(rng, string.ascii_letters + string.digits, 24)
    host = _pick(rng, ("app.example.org", "files.example.com", "example.net"))
    url = f"https://{host}/share/{int(rng.integers(1000, 99999))}?lang=en&{param}={secret}"
    return Planted("URL", url, (url, secret))


def make_id(rng: np.random.Generator) -> Planted:
    kind = int(rng.integers(3))
    if kind == 0:
        area = int(rng.choice([*range(1, 666), *range(667, 900)]))
        a, b, c = f"{area:03d}", f"{int(rng.integers(1, 100)):02d}", f"{int(rng.integers(1, 10000)):04d}"
        forms = (f"{a}-{b}-{c}", f"{a} {b} {c}", f"SSN {a}{b}{c}")
        return Planted("ID", _pick(rng, forms), (*forms, a + b + c), forms)
    if kind == 1:
        prefix = _pick(rng, ("AB", "CE", "JG", "PR", "WL", "HT"))
        d = _rand(rng, string.digits, 6)
        spaced = f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {'ABCD'[int(rng.integers(4))]}"
        nino = (spaced, spaced.replace(" ", ""))
        return Planted("ID", _pick(rng, nino), nino, nino)
    if rng.random() < 0.5:
        iban = iban_with_check("GB", _rand(rng, string.ascii_uppercase, 4) + _rand(rng, string.digits, 14))
    else:
        iban = iban_with_check("DE", _rand(rng, string.digits, 18))
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return Planted("ID", _pick(rng, (iban, spaced)), (iban, spaced), (iban, spaced))


def make_person(rng: np.random.Generator) -> tuple[str, str, bool]:
    lexicon = rng.random() < 0.5
    first = _pick(rng, LEXICON_FIRST if lexicon else CUE_ONLY_FIRST)
    return first, _pick(rng, SURNAMES), lexicon


PROMPT_PHRASES = {
    "EMAIL": ("Can you draft a reply to {v} about the refund?", "My login is {v} but the reset mail never comes."),
    "PHONE": ("You can reach me on {v} after 6pm.", "Why does my carrier block calls from {v}?"),
    "IP": ("My server at {v} refuses SSH connections since yesterday.", "The logs show requests from {v}, attack?"),
    "CARD": ("The shop declined my card {v}, exp 09/28, why?", "Is it safe to type {v} into this form?"),
    "KEY": ("I accidentally committed {v} to GitHub, what now?", "Here is my config:\n{v}\nWhy does auth fail?"),
    "URL": ("This link stopped working: {v}", "Can you summarize the document at {v} ?"),
    "ID": ("My tax form asks for {v}, where does it go?", "The bank wants me to confirm {v} by phone."),
}
REPLY_PHRASES = {
    "EMAIL": ("I'd write to {v} with a short summary.", "Send the logs to {v} and mention the ticket."),
    "PHONE": ("Try calling {v} again during business hours.", "Numbers like {v} are sometimes flagged as spam."),
    "IP": ("Check whether {v} is in your firewall's deny list.", "Requests from {v} look automated."),
    "CARD": ("Never share {v} in a chat; contact your bank.", "The card {v} should be cancelled right away."),
    "KEY": ("Revoke {v} immediately and create a new one.", "The value {v} must be rotated today."),
    "URL": ("The link {v} contains a credential; regenerate it.", "Opening {v} may expire the session."),
    "ID": ("Keep {v} private and give it only to the tax office.", "Your identifier {v} should not be emailed."),
}
FEEDBACK_PHRASES = {
    "EMAIL": ("A was better, it used {v} correctly.", "B ignored my address {v}."),
    "PHONE": ("Both answers repeated {v}, which I did not like.", "B misread {v} as a fax number."),
    "IP": ("A explained the {v} block well.", "B told me to ping {v} which did nothing."),
    "CARD": ("A warned me about {v}, good.", "B printed {v} back to me!"),
    "KEY": ("A noticed {v} was a secret.", "B suggested pasting {v} into a gist, bad."),
    "URL": ("B opened {v} for me, nice.", "A could not read {v}."),
    "ID": ("A knew where {v} goes.", "B asked me to email {v}, no."),
}
MAKERS: dict[str, Callable[[np.random.Generator], Planted]] = {
    "EMAIL": lambda rng: _email(rng),
    "PHONE": make_phone,
    "IP": make_ip,
    "CARD": make_card,
    "URL": make_url,
    "KEY": lambda rng: make_key(rng) if rng.random() < 0.7 else make_keyword_secret(rng),
    "ID": make_id,
}
KINDS = tuple(MAKERS)


def _email(rng: np.random.Generator) -> Planted:
    first, last, _ = make_person(rng)
    local = _pick(rng, (f"{first}.{last}", f"{first[0]}{last}{int(rng.integers(10, 99))}", f"{first}_{last}"))
    email = f"{local}@{_pick(rng, ('example.org', 'example.com', 'mail.example.net'))}"
    email = email.lower() if rng.random() < 0.8 else email
    return Planted("EMAIL", email, (email, email.lower()))


def _name_texts(rng: np.random.Generator, first: str, last: str, lexicon: bool) -> tuple[str, str, str, str]:
    full = f"{first} {last}"
    cue = _pick(rng, NAME_CUES).format(full=full, first=first, last=last)
    intro = f"{full} asked me to compare these." if lexicon and rng.random() < 0.4 else f"Hi, {cue}."
    reply = _pick(
        rng, (f"Sure, {first}!", f"Thanks {first}, here is my answer.", f"Hi {first},", f"Of course, {first}.")
    )
    feedback = _pick(rng, (f"-- {first}", f"Thanks,\n{first} {last}", f"{first} here: A was better."))
    return intro, reply, _pick(rng, (f"Good question, {first}.", "Here are some options.")), feedback


def make_planted_case(rng: np.random.Generator, index: int) -> PlantedCase:
    """One battle: each of its four texts carries at least one planted value of a rotating kind."""
    kinds = [KINDS[(index + k) % len(KINDS)] for k in range(3)]
    values = [MAKERS[kind](rng) for kind in kinds]
    prompt = [PROMPT_PHRASES[v.kind][int(rng.integers(2))].format(v=v.written) for v in values]
    reply_a = [REPLY_PHRASES[values[0].kind][int(rng.integers(2))].format(v=values[0].writing(rng))]
    reply_b = [REPLY_PHRASES[values[1].kind][int(rng.integers(2))].format(v=values[1].writing(rng))]
    feedback = [FEEDBACK_PHRASES[values[2].kind][int(rng.integers(2))].format(v=values[2].writing(rng))]
    planted = list(values)
    if index % 5 != 4:
        first, last, lexicon = make_person(rng)
        intro, echo_a, echo_b, sign = _name_texts(rng, first, last, lexicon)
        prompt.insert(0, intro)
        reply_a.insert(0, echo_a)
        reply_b.insert(0, echo_b)
        feedback.append(sign)
        planted.append(Planted("NAME", first, (first,)))
        planted.append(Planted("NAME", last, (last,)))
    return PlantedCase([" ".join(prompt), " ".join(reply_a), " ".join(reply_b), "\n".join(feedback)], planted)


def make_planted_corpus(seed: int, n: int) -> list[PlantedCase]:
    rng = np.random.default_rng(seed)
    return [make_planted_case(rng, i) for i in range(n)]


def _clean_sentences(rng: np.random.Generator) -> list[str]:
    """One sentence (or snippet) from each family of ordinary content that must survive scrubbing."""

    def i(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi))

    hexd = string.digits + "abcdef"
    return [
        f"Upgrading from v{i(1, 12)}.{i(0, 20)}.{i(0, 9)} to {i(1, 12)}.{i(0, 20)}.{i(0, 30)} fixed the crash.",
        f"pip install numpy=={i(1, 3)}.{i(0, 27)}.{i(0, 5)} pandas>={i(1, 3)}.{i(0, 3)}",
        f"The meeting moved from 2024-{i(1, 13):02d}-{i(1, 29):02d} to {i(1, 13):02d}/{i(1, 29):02d}/2026 "
        f"at {i(0, 24):02d}:{i(0, 60):02d}.",
        f"Deadline is {i(1, 29)} May {i(2020, 2030)}, 09:00-17:30 (UTC+{i(1, 10)}).",
        f"mask = 0x{i(0, 2**31):08X}\nfor i in range({i(2, 1024)}):\n    total += i * {i(1, 9)}.{i(0, 99)}",
        f"def area(r):\n    return 3.14159 * r ** 2  # r={i(1, 50)}, color #{_rand(rng, '0123456789ABCDEF', 6)}",
        f"It costs ${i(1, 9)},{i(100, 999)}.{i(10, 99)} or {i(5, 99)}.{i(10, 99)} EUR per month.",
        f"My order #A-{i(10**7, 10**8)} arrived, invoice INV-{i(2020, 2026)}-{i(100, 999999):06d}.",
        f"The textbook is ISBN {isbn13(rng)}, {i(200, 900)} pages.",
        f"The summit is at {rng.uniform(-80, 80):.4f}, {rng.uniform(-170, 170):.4f} (elevation {i(100, 8000)} m).",
        f"Solve {i(2, 9)}x^2 + {i(1, 20)}x - {i(1, 30)} = 0 and check that 2^{i(10, 40)} is even.",
        f"The {i(5, 40)}th Fibonacci number mod {i(10**9, 10**9 + 100)} is easy to compute.",
        f"Should I buy the RTX {_pick(rng, ('4090', '4070 Ti', '3060'))} or a MacBook Air M{i(1, 4)}?",
        f"Install Ubuntu {i(18, 25)}.04 LTS and PostgreSQL {i(12, 17)} on my Mac, then Python 3.{i(8, 14)}.",
        f"Balance {_pick(rng, ('H2SO4 + 2NaOH', 'C6H12O6 + 6O2', 'Fe2O3 + 3CO', 'CH4 + 2O2'))}; explain Li-ion cells.",
        f"I have {i(2, 9)} cats and {i(1, 5)} dogs; we walk {i(2, 12)} km in {i(20, 90)} minutes.",
        f"Write a haiku about {_pick(rng, ('autumn in Kyoto', 'rain in Austin', 'June mornings', 'Georgia pines'))}.",
        f"What is the best way to learn {_pick(rng, ('Spanish', 'Rust', 'Julia', 'Ruby on Rails'))} in "
        f"{i(2, 12)} months?",
        f"Run the app on http://127.0.0.1:{i(3000, 9000)}/docs or 0.0.0.0:{i(3000, 9000)} behind nginx.",
        f"Commit {_rand(rng, hexd, 40)} touched request 550e8400-e29b-41d4-a716-{_rand(rng, hexd, 12)}.",
        f"See https://docs.python.org/3/library/re.html and https://en.wikipedia.org/wiki/Bradley%E2%80%93Terry_model"
        f"?oldid={i(10**8, 10**9)}",
        f"Top {i(3, 20)} tips for a {i(5, 42)} km race in {_pick(rng, ('March', 'October', 'April'))}.",
        f"Our Q{i(1, 5)} revenue grew {i(1, 40)}.{i(0, 9)}% to {i(1, 900)} million; the ratio is {i(1, 9)}:{i(1, 9)}.",
        f"Translate 'good morning' into French, German and Japanese, then count to {i(10, 100)}.",
        f"The function returns -1 on error and {i(0, 255)} otherwise; set max_tokens={i(64, 4096)}.",
        f"My thermostat reads {i(15, 30)}.{i(0, 9)} °C, about {i(59, 86)} °F, at {i(1, 12)}:{i(0, 60):02d} pm.",
        f"Summarize chapter {i(1, 30)} of Pride and Prejudice in {i(50, 300)} words.",
        f"The dataset has {i(1000, 99999)} rows and {i(3, 300)} columns; use a {i(60, 90)}/{i(10, 40)} split.",
    ]


def make_clean_corpus(seed: int, n: int) -> list[str]:
    """`n` ordinary texts, each one to three sentences from the families above (about 60 to 300 chars)."""
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        sentences = _clean_sentences(rng)
        picks = rng.choice(len(sentences), size=int(rng.integers(1, 4)), replace=False)
        texts.append(" ".join(sentences[int(k)] for k in picks))
    return texts


@pytest.fixture(scope="session")
def planted_corpus() -> list[PlantedCase]:
    return make_planted_corpus(seed=20240814, n=240)


@pytest.fixture(scope="session")
def clean_corpus() -> list[str]:
    return make_clean_corpus(seed=20260312, n=300)
