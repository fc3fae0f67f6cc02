"""Identity-leak detection: does a battle's prompt or output reveal which model or company is behind a pane?

A vote on a battle whose outputs name a model ("I'm Claude, made by Anthropic") or whose prompt asks for one
("are you GPT-4?") is not anonymous any more; the vote is kept with a reason and left out of the anonymous
leaderboard. Matching is case-insensitive and word-boundary aware, over configurable lists.

Terms come in two strengths. *Strict* terms ("OpenAI", "ChatGPT", "GPT-4", "Qwen") are flagged wherever they
appear. *Contextual* terms are ordinary words too ("Claude" Monet, the "llama" animal, the "mistral"
wind, "Gemini" the star sign, "Google" the search engine), so they are flagged only in a revealing
context: self-naming ("I'm Llama", "my name is Claude", "are you Gemini?"), attribution next to a
self or AI word ("I was developed by Google", "an assistant trained by Meta"), a version or tier suffix
("Llama 3", "Gemini Pro", "Claude 3.5 Sonnet") or an AI noun after them ("Google's language model").
`allow_phrases` ("Claude Monet", "Falcon 9") are blanked out before any matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from arena.domain import Modality
from arena.errors import ConfigError

# fmt: off
STRICT_TERMS: tuple[str, ...] = (
    "ChatGPT", "GPT-3", "GPT-3.5", "GPT-4", "GPT-4o", "GPT-5", "GPT-oss", "SearchGPT", "InstructGPT",
    "Qwen", "QwQ", "DeepSeek", "Mixtral", "Codestral", "WizardLM", "Nemotron", "ChatGLM", "GLM-4",
    "InternLM", "Baichuan", "DBRX", "OLMo-2", "Llama-2", "Llama-3", "CodeLlama", "Code Llama", "Vicuna-13B",
)
STRICT_ORGANISATIONS: tuple[str, ...] = (
    "OpenAI", "Anthropic", "DeepMind", "Google DeepMind", "Google AI", "Google Brain", "Meta AI",
    "Mistral AI", "Alibaba Cloud", "Stability AI", "AI21 Labs", "AI21", "Inflection AI", "Moonshot AI",
    "Zhipu AI", "01.AI", "LMSYS", "Allen Institute for AI", "Perplexity AI", "Cohere For AI", "Reka AI",
)
CONTEXTUAL_TERMS: tuple[str, ...] = (
    "Claude", "Llama", "Gemini", "Gemma", "Mistral", "GPT", "Bard", "Grok", "Falcon", "Vicuna", "Alpaca",
    "PaLM", "Ernie", "Copilot", "Command R", "Jamba", "Kimi", "MiniMax", "Sonar", "Perplexity",
)
CONTEXTUAL_ORGANISATIONS: tuple[str, ...] = (
    "Google", "Meta", "Microsoft", "Amazon", "Apple", "Nvidia", "IBM", "Alibaba", "Baidu", "Tencent",
    "ByteDance", "Cohere", "xAI", "Hugging Face", "Perplexity", "Inflection", "Databricks", "Salesforce",
)
SYSTEM_PROMPT_PHRASES: tuple[str, ...] = (
    "large language model trained by", "large language model, trained by", "knowledge cutoff:",
    "personality: v2", "image input capabilities: enabled", "the assistant is claude",
    "you are a helpful assistant created by", "based on the gpt-4 architecture",
)
MODALITY_PHRASES: Mapping[str, tuple[str, ...]] = {
    Modality.TEXT: (),
    Modality.SEARCH: (
        "according to Perplexity", "Perplexity.ai", "Bing search", "Bing Chat", "searched Bing",
        "Microsoft Copilot", "You.com", "Brave Search", "Tavily", "SerpAPI", "Exa.ai",
        "Google Search grounding", "grounding with Google Search", "ChatGPT search", "Sonar Pro",
    ),
    Modality.IMAGE: (
        "DALL-E", "DALL·E", "Midjourney", "Stable Diffusion", "SDXL", "Google Imagen", "Ideogram AI",
        "Adobe Firefly", "Recraft", "FLUX.1", "Black Forest Labs",
    ),
    Modality.MUSIC: (
        "Suno AI", "made with Suno", "by Suno", "Suno v3", "Suno v4", "Udio", "MusicGen", "MusicLM",
        "AudioCraft", "Stable Audio", "Riffusion", "ElevenLabs", "Lyria", "Jukebox AI", "OpenAI Jukebox",
    ),
}
ALLOW_PHRASES: tuple[str, ...] = (
    "Claude Monet", "Claude Debussy", "Claude Shannon", "Claude Lévi-Strauss", "Jean-Claude", "Falcon 9",
    "Falcon Heavy", "llama wool", "GPT partition", "GUID partition table", "MBR or GPT", "MBR/GPT", "GPT/MBR",
    "Gemini program", "Project Gemini", "Gemini spacecraft", "anthropic principle", "anthropic reasoning",
)

# fmt: on
_SELF = (
    r"(?<![a-z0-9'’])(?:i\s+am|i'?m|i’m|my\s+name\s+is|call\s+me|you\s+are|you'?re|you’re|are\s+you|r\s+u"
    r"|is\s+this|called|named|known\s+as|version\s+of)\s+(?:an?\s+|the\s+)?"
)
_AS = r"(?:^|[.!?:\n]\s*)as\s+"
_BY = (
    r"(?<![a-z0-9])(?:i|i'm|i’m|me|my|we|our|ai|assistant|model|chatbot|llm|bot)(?![a-z0-9'’])[^.!?\n]{0,80}?"
    r"(?<![a-z0-9])(?:developed|created|trained|made|built|designed|programmed|released|provided|owned"
    r"|maintained|fine-?tuned)\s+by\s+(?:(?:a|the)\s+(?:team|researchers|engineers)\s+(?:at|from)\s+)?"
)
_MY_MAKERS = (
    r"(?<![a-z0-9])(?:my|our)\s+(?:developers|creators|makers|engineers|team|company|trainers)"
    r"\s+(?:at|from)\s+"
)
_SUFFIX = (
    r"(?:[\s\-_.]*(?:v?\d+(?:\.\d+)*[a-z]{0,3}|pro|ultra|flash|nano|opus|sonnet|haiku|instruct|chat|large"
    r"|medium|small|mini|nemo|coder|vision|turbo|preview)(?![a-z0-9]))"
)
_MODEL_NOUN = r"(?:'s|’s)?\s+(?:ai|assistant|language\s+model|llm|chatbot|model|models)(?![a-z])"
_ORG_NOUN = r"(?:'s|’s)?\s+(?:ai|assistant|language\s+model|llm|chatbot)(?![a-z])"


class LeakReason(StrEnum):
    """Machine-readable reason codes for an identity leak (the first match decides `LeakVerdict.reason`)."""

    PROMPT_NAMES_MODEL = "prompt_names_model"
    OUTPUT_NAMES_MODEL = "output_names_model"
    OUTPUT_NAMES_ORGANISATION = "output_names_organisation"
    OUTPUT_NAMES_BATTLE_MODEL = "output_names_battle_model"
    SYSTEM_PROMPT_PHRASE = "system_prompt_phrase"
    MODALITY_PHRASE = "modality_phrase"


@dataclass(frozen=True)
class LeakMatch:
    """One hit: where it was (`prompt` or `output:<index>`), the configured term, and the text matched."""

    where: str
    reason: LeakReason
    term: str
    text: str
    start: int


@dataclass(frozen=True)
class LeakVerdict:
    """Outcome of an identity-leak check; `reason` is None exactly when nothing leaked."""

    leaked: bool
    reason: LeakReason | None
    matches: list[LeakMatch]
    message: str


@dataclass(frozen=True)
class IdentityLeakConfig:
    """Term lists (defaults built in); `from_mapping` replaces a list (`key`) or extends it (`extra_key`)."""

    strict_terms: tuple[str, ...] = STRICT_TERMS
    strict_organisations: tuple[str, ...] = STRICT_ORGANISATIONS
    contextual_terms: tuple[str, ...] = CONTEXTUAL_TERMS
    contextual_organisations: tuple[str, ...] = CONTEXTUAL_ORGANISATIONS
    system_prompt_phrases: tuple[str, ...] = SYSTEM_PROMPT_PHRASES
    modality_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(MODALITY_PHRASES))
    allow_phrases: tuple[str, ...] = ALLOW_PHRASES
    check_prompt: bool = True

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> IdentityLeakConfig:
        """Build from a config table; unknown keys raise ConfigError naming the allowed ones."""
        lists = (
            "strict_terms",
            "strict_organisations",
            "contextual_terms",
            "contextual_organisations",
            "system_prompt_phrases",
            "allow_phrases",
        )
        allowed = {
            *lists,
            *(f"extra_{name}" for name in lists),
            "modality_phrases",
            "extra_modality_phrases",
            "check_prompt",
        }
        unknown = set(mapping) - allowed
        if unknown:
            raise ConfigError(f"identity-leak config: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        config = cls()
        changes: dict[str, Any] = {}
        for name in lists:
            base = _strings(mapping[name], name) if name in mapping else getattr(config, name)
            changes[name] = base + _strings(mapping.get(f"extra_{name}", ()), f"extra_{name}")
        phrases = {str(k): v for k, v in config.modality_phrases.items()}
        for key, extend in (("modality_phrases", False), ("extra_modality_phrases", True)):
            for modality, values in dict(mapping.get(key, {})).items():
                if modality not in {m.value for m in Modality}:
                    raise ConfigError(f"identity-leak config: {key} has unknown modality {modality!r}")
                phrases[modality] = (phrases.get(modality, ()) if extend else ()) + _strings(values, key)
        changes["modality_phrases"] = phrases
        if "check_prompt" in mapping:
            changes["check_prompt"] = bool(mapping["check_prompt"])
        return replace(config, **changes)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(f"identity-leak config: {key} must be a list of strings, got {value!r}")
    items = tuple(str(v) for v in value)
    if any(not item.strip() for item in items):
        raise ConfigError(f"identity-leak config: {key} contains an empty entry")
    return items


def term_pattern(term: str) -> str:
    """Regex for a plain term: separators (space - _ .) are interchangeable and optional; edges are bounded.

    "GPT-4" matches "gpt4", "GPT 4" and "GPT-4o" but not "GPT-40"; "Qwen" does not match inside "Qwenx".
    A term may not be preceded by a letter or digit. One that ends with a letter may be followed by digits
    ("Qwen2.5", "llama3") but not by letters; one that ends with a digit may be followed by letters
    ("gpt-4o", "llama-3b") but not by digits.
    """
    tokens = _words(term)
    if not tokens:
        raise ValueError(f"term {term!r} has no characters besides separators")
    body = r"[\s\-_.·]*".join(re.escape(t) for t in tokens)
    left = r"(?<![a-z0-9])" if tokens[0][0].isalnum() else ""
    last = tokens[-1][-1]
    right = r"(?![0-9])" if last.isdigit() else (r"(?![a-z])" if last.isalpha() else "")
    return left + body + right


@dataclass(frozen=True)
class _Rule:
    """One context and many terms in a single alternation; group `t<i>` is term i (what gets reported)."""

    reason: LeakReason
    terms: tuple[str, ...]
    regex: re.Pattern[str]
    needles: tuple[str, ...]

    def may_match(self, lowered: str) -> bool:
        """Cheap prefilter: every match contains the longest word of its term literally."""
        return any(needle in lowered for needle in self.needles)


def _rules(terms: Iterable[str], reason: LeakReason, before: str = "", after: str = "") -> list[_Rule]:
    """A one-regex rule for all `terms` in one context; longer terms first, so "GPT-4o" wins over "GPT-4"."""
    unique = sorted((t for t in dict.fromkeys(terms) if _words(t)), key=len, reverse=True)
    if not unique:
        return []
    body = "|".join(f"(?P<t{i}>{term_pattern(term)})" for i, term in enumerate(unique))
    firsts = "".join(sorted({re.escape(t.strip()[0].lower()) for t in unique}))
    regex = re.compile(f"{before}(?=[{firsts}])(?:{body}){after}", re.IGNORECASE)
    return [_Rule(reason, tuple(unique), regex, tuple(dict.fromkeys(_longest_word(t) for t in unique)))]


def _words(term: str) -> list[str]:
    return [t for t in re.split(r"[\s\-_.·]+", term.strip().lower()) if t]


def _longest_word(term: str) -> str:
    return max(_words(term), key=len)


class IdentityLeakDetector:
    """Checks a battle's prompt and stored outputs for words that reveal a model's identity.

    Compile once (at app start) and reuse: `check` is pure and thread-safe.
    """

    def __init__(self, config: IdentityLeakConfig | None = None) -> None:
        self.config = config or IdentityLeakConfig()
        cfg = self.config
        contextual = (
            _rules(cfg.contextual_terms, LeakReason.OUTPUT_NAMES_MODEL, _SELF)
            + _rules(cfg.contextual_terms, LeakReason.OUTPUT_NAMES_MODEL, _AS, r"\s*,")
            + _rules(cfg.contextual_terms, LeakReason.OUTPUT_NAMES_MODEL, "", _SUFFIX)
            + _rules(cfg.contextual_terms, LeakReason.OUTPUT_NAMES_MODEL, "", _MODEL_NOUN)
            + _rules(cfg.contextual_organisations, LeakReason.OUTPUT_NAMES_ORGANISATION, _BY)
            + _rules(cfg.contextual_organisations, LeakReason.OUTPUT_NAMES_ORGANISATION, _MY_MAKERS)
            + _rules(cfg.contextual_organisations, LeakReason.OUTPUT_NAMES_ORGANISATION, "", _ORG_NOUN)
        )
        self._common = (
            _rules(cfg.strict_terms, LeakReason.OUTPUT_NAMES_MODEL)
            + _rules(cfg.strict_organisations, LeakReason.OUTPUT_NAMES_ORGANISATION)
            + contextual
            + _rules(cfg.system_prompt_phrases, LeakReason.SYSTEM_PROMPT_PHRASE)
        )
        self._modality = {m: _rules(p, LeakReason.MODALITY_PHRASE) for m, p in cfg.modality_phrases.items()}
        allow = _rules(cfg.allow_phrases, LeakReason.OUTPUT_NAMES_MODEL)
        self._allow = allow[0] if allow else None

    def check(
        self,
        prompt: str,
        outputs: Sequence[str],
        modality: Modality | str = Modality.TEXT,
        model_names: Sequence[str] = (),
        organisations: Sequence[str] = (),
    ) -> LeakVerdict:
        """Look for identity words in the prompt and every output (text, transcript, lyrics, caption).

        `model_names` / `organisations` are the two battle models' catalogue names, display names and
        organisations: names are matched anywhere (they are specific identifiers), organisations only in an
        attribution context ("made by X", "X's AI"), since a catalogue organisation may be an ordinary word.
        Entries of 3 characters or fewer are ignored as too noisy.
        """
        battle = self._battle_rules(model_names, organisations)
        rules = self._common + self._modality.get(str(Modality(modality)), []) + battle
        matches: list[LeakMatch] = []
        if self.config.check_prompt:
            for hit in self._scan(prompt, "prompt", rules):
                matches.append(replace(hit, reason=LeakReason.PROMPT_NAMES_MODEL))
        for index, output in enumerate(outputs):
            matches.extend(self._scan(output, f"output:{index}", rules))
        if not matches:
            return LeakVerdict(False, None, [], "no identity words found")
        first = matches[0]
        message = (
            f"identity leak: {first.where} contains {first.text!r} (term {first.term!r}); "
            f"{len(matches)} match(es) in all, so the vote is excluded from the anonymous leaderboard"
        )
        return LeakVerdict(True, first.reason, matches, message)

    def _battle_rules(self, model_names: Sequence[str], organisations: Sequence[str]) -> list[_Rule]:
        reason = LeakReason.OUTPUT_NAMES_BATTLE_MODEL
        names = [n for n in model_names if len(n.strip()) > 3]
        orgs = [o for o in organisations if len(o.strip()) > 3]
        return (
            _rules(names, reason)
            + _rules(orgs, reason, _BY)
            + _rules(orgs, reason, _MY_MAKERS)
            + _rules(orgs, reason, "", _ORG_NOUN)
        )

    def _scan(self, text: str, where: str, rules: Sequence[_Rule]) -> list[LeakMatch]:
        if not text:
            return []
        lowered = text.lower()
        masked = text
        if self._allow is not None and self._allow.may_match(lowered):
            masked = self._allow.regex.sub(lambda m: " " * len(m.group(0)), text)
        hits: dict[int, LeakMatch] = {}
        for rule in rules:
            if not rule.may_match(lowered):
                continue
            for m in rule.regex.finditer(masked):
                group = m.lastgroup or ""
                start, end = m.span(group)
                if start not in hits:
                    term = rule.terms[int(group[1:])]
                    hits[start] = LeakMatch(where, rule.reason, term, text[start:end], start)
        return [hits[k] for k in sorted(hits)]
