"""Prompt moderation: the policy interface, a list-based default policy and an OpenAI-compatible adapter.

Every policy answers `await policy.check(text) -> ModerationVerdict`. The list policy runs locally and
cannot fail. The remote adapter calls `POST {base_url}/moderations` (base_url ends in `/v1`, as for the
chat providers) on an injected `httpx.AsyncClient`; when the service fails it either raises the typed
`ModerationUnavailableError` (`FailMode.RAISE`) or turns the failure into a verdict: refuse the prompt
(`FailMode.CLOSED`, the default: no unmoderated prompt reaches a model or a data release) or let it through
marked `checked=False` (`FailMode.OPEN`: availability first; the service should then record the battle as
unmoderated and keep it out of public releases).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx

from arena.domain import ErrorCode
from arena.errors import ArenaError, ConfigError

logger = logging.getLogger(__name__)

DEFAULT_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "sexual/minors": (
        r"re:child\s+(?:porn|pornography|sexual\s+abuse\s+material)",
        "csam",
        r"re:(?:underage|under-age|pre-?teen)\s+(?:porn|nudes?|sex)(?![a-z])",
    ),
    "self-harm/instructions": (
        r"re:how\s+(?:do\s+i|can\s+i|should\s+i|to)\s+(?:kill|hang|poison)\s+myself",
        r"re:(?:best|easiest|quickest|painless|fastest)\s+way\s+to\s+(?:kill\s+myself|commit\s+suicide"
        r"|end\s+my\s+(?:own\s+)?life)",
    ),
    "violence/weapons": (
        r"re:how\s+(?:do\s+i|can\s+i|to)\s+(?:make|build|assemble)\s+(?:a\s+)?(?:pipe\s+)?bomb(?![\w-])",
        r"re:(?:synthesi[sz]e|make|produce|weaponi[sz]e)\s+(?:sarin|vx|ricin|anthrax|nerve\s+agents?)(?![a-z])",
    ),
}
CATEGORY_ADVICE: Mapping[str, str] = {
    "self-harm/instructions": (
        " If you are thinking about harming yourself, please contact your local emergency number or a crisis line."
    ),
}


class ModerationReason(StrEnum):
    """Machine-readable reason codes of a moderation verdict."""

    FLAGGED = "moderation_flagged"
    UNAVAILABLE = "moderation_unavailable"


class FailMode(StrEnum):
    """What the remote adapter does when the moderation service fails."""

    CLOSED = "closed"
    OPEN = "open"
    RAISE = "raise"


@dataclass(frozen=True)
class ModerationVerdict:
    """Whether to refuse a prompt; `message` is shown to the voter and says why (and what to do)."""

    flagged: bool
    categories: tuple[str, ...]
    message: str
    reason: ModerationReason | None = None
    checked: bool = True


@runtime_checkable
class ModerationPolicy(Protocol):
    """Anything that can judge a prompt."""

    async def check(self, text: str) -> ModerationVerdict:
        """Return a verdict for `text`; never raises for a flagged text."""
        ...


class ModerationUnavailableError(ArenaError):
    """The moderation service could not give an answer; `code` says why (timeout, server error, ...)."""

    status_code = 503

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, detail={"code": code.value})
        self.code = code


def _allowed() -> ModerationVerdict:
    return ModerationVerdict(False, (), "allowed", None, True)


def refusal_message(categories: Sequence[str], source: str = "our moderation policy") -> str:
    """The text shown when a prompt is refused: which categories, and what to do next."""
    advice = "".join(CATEGORY_ADVICE.get(c, "") for c in categories)
    return (
        f"Your prompt was not sent to the models: {source} flagged it "
        f"({', '.join(categories) or 'unspecified'}). Please rephrase it.{advice}"
    )


def compile_entry(entry: str) -> re.Pattern[str]:
    """`re:<regex>` is used as is; anything else is a word or phrase matched on word boundaries."""
    if entry.startswith("re:"):
        pattern = entry[3:]
    else:
        words = entry.strip().split()
        if not words:
            raise ConfigError("moderation config: empty word entry")
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"moderation config: invalid regex {entry!r}: {exc}") from exc


class ListModerationPolicy:
    """Flags text matching any word, phrase or `re:` regex of a category; the categories are configurable.

    The defaults are deliberately small and conservative (unambiguous requests for child sexual content,
    self-harm methods and mass-harm weapons): a false refusal costs a voter, a missed one is still caught
    by the models' own safety training. Add a remote policy for anything broader.
    """

    def __init__(self, categories: Mapping[str, Sequence[str]] | None = None) -> None:
        source = DEFAULT_CATEGORIES if categories is None else categories
        self.categories: dict[str, list[re.Pattern[str]]] = {
            name: [compile_entry(e) for e in entries] for name, entries in source.items()
        }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ListModerationPolicy:
        """Config keys: `categories` (table name -> list), `use_defaults` (bool, default true: merge them)."""
        unknown = set(mapping) - {"categories", "use_defaults"}
        if unknown:
            raise ConfigError(f"moderation config: unknown key(s) {sorted(unknown)}; allowed: categories, use_defaults")
        merged: dict[str, list[str]] = {}
        if mapping.get("use_defaults", True):
            merged = {k: list(v) for k, v in DEFAULT_CATEGORIES.items()}
        for name, entries in dict(mapping.get("categories", {})).items():
            if isinstance(entries, str):
                raise ConfigError(f"moderation config: category {name!r} must be a list of strings")
            merged.setdefault(str(name), []).extend(str(e) for e in entries)
        return cls(merged)

    def evaluate(self, text: str) -> ModerationVerdict:
        """The synchronous check (pure, thread-safe)."""
        hits = tuple(name for name, regexes in self.categories.items() if any(r.search(text) for r in regexes))
        if not hits:
            return _allowed()
        return ModerationVerdict(True, hits, refusal_message(hits), ModerationReason.FLAGGED, True)

    async def check(self, text: str) -> ModerationVerdict:
        """ModerationPolicy interface."""
        return self.evaluate(text)


class OpenAIModerationPolicy:
    """Adapter for OpenAI-compatible moderation endpoints: POST {base_url}/moderations {input, model}."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        model: str = "omni-moderation-latest",
        api_key: str | None = None,
        timeout_s: float = 5.0,
        fail_mode: FailMode | str = FailMode.CLOSED,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/moderations"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout_s
        self.fail_mode = FailMode(fail_mode)

    @classmethod
    def from_mapping(
        cls, client: httpx.AsyncClient, mapping: Mapping[str, Any], environ: Mapping[str, str]
    ) -> OpenAIModerationPolicy:
        """Config keys: `base_url` (required), `model`, `api_key_env`, `timeout_s`, `fail_mode`."""
        allowed = {"base_url", "model", "api_key_env", "timeout_s", "fail_mode"}
        unknown = set(mapping) - allowed
        if unknown or "base_url" not in mapping:
            raise ConfigError(
                f"moderation service config: needs base_url; unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(allowed)}"
            )
        api_key = None
        if mapping.get("api_key_env"):
            api_key = environ.get(str(mapping["api_key_env"]))
            if not api_key:
                raise ConfigError(f"moderation service: set the environment variable {mapping['api_key_env']}")
        try:
            fail_mode = FailMode(str(mapping.get("fail_mode", FailMode.CLOSED)))
        except ValueError as exc:
            raise ConfigError("moderation service: fail_mode must be closed, open or raise") from exc
        return cls(
            client,
            base_url=str(mapping["base_url"]),
            model=str(mapping.get("model", "omni-moderation-latest")),
            api_key=api_key,
            timeout_s=float(mapping.get("timeout_s", 5.0)),
            fail_mode=fail_mode,
        )

    async def check(self, text: str) -> ModerationVerdict:
        """Classify `text`; on service failure act on `fail_mode` (raise, refuse, or allow unchecked)."""
        try:
            return await self.classify(text)
        except ModerationUnavailableError as exc:
            if self.fail_mode is FailMode.RAISE:
                raise
            logger.warning("moderation service unavailable (%s); failing %s", exc.code.value, self.fail_mode.value)
            if self.fail_mode is FailMode.CLOSED:
                message = "The safety check is unavailable right now, so no prompt can be sent; try again soon."
                return ModerationVerdict(True, (), message, ModerationReason.UNAVAILABLE, False)
            return ModerationVerdict(
                False, (), "allowed unchecked (moderation unavailable)", ModerationReason.UNAVAILABLE, False
            )

    async def classify(self, text: str) -> ModerationVerdict:
        """One request; raises ModerationUnavailableError with a typed code on any failure."""
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = await self._client.post(
                self._url, json={"input": text, "model": self._model}, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise ModerationUnavailableError(
                ErrorCode.TIMEOUT,
                f"moderation request timed out after {self._timeout} s; check the service or raise the timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise ModerationUnavailableError(
                ErrorCode.CONNECTION,
                f"cannot reach the moderation service at {self._url}: {type(exc).__name__}",
            ) from exc
        if response.status_code != 200:
            raise ModerationUnavailableError(
                _status_code(response.status_code), f"moderation service answered HTTP {response.status_code}"
            )
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> ModerationVerdict:
        try:
            result = response.json()["results"][0]
            flagged = result["flagged"]
            categories = result.get("categories") or {}
            if not isinstance(flagged, bool) or not isinstance(categories, dict):
                raise TypeError("flagged must be a bool and categories an object")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ModerationUnavailableError(
                ErrorCode.MALFORMED, f"moderation service sent an unexpected body: {exc}"
            ) from exc
        hits = tuple(sorted(str(name) for name, on in categories.items() if on is True))
        if not flagged:
            return _allowed()
        return ModerationVerdict(
            True, hits, refusal_message(hits, "the moderation service"), ModerationReason.FLAGGED, True
        )


def _status_code(status: int) -> ErrorCode:
    if status in (401, 403):
        return ErrorCode.AUTH
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status == 404:
        return ErrorCode.NOT_FOUND
    return ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.BAD_REQUEST


class CombinedModerationPolicy:
    """Runs policies in order (cheap local ones first) and returns the first refusal, if any."""

    def __init__(self, policies: Sequence[ModerationPolicy]) -> None:
        self.policies = list(policies)

    async def check(self, text: str) -> ModerationVerdict:
        """First flagged verdict wins; an unchecked pass-through is reported as unchecked."""
        verdicts: list[ModerationVerdict] = []
        for policy in self.policies:
            verdict = await policy.check(text)
            if verdict.flagged:
                return verdict
            verdicts.append(verdict)
        unchecked = [v for v in verdicts if not v.checked]
        return unchecked[0] if unchecked else _allowed()
