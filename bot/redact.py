"""Redaction of personal data from user messages before anything else sees or keeps them.

This module owns the rule that no personal identifier leaves the message: fødselsnummer and
D-nummer, phone numbers, e-mail and web addresses, IP addresses, street addresses (with or
without a house number), postcodes, bank account (also IBAN) and card numbers, licence plates,
passport numbers, social media handles, names after cues such as «jeg heter» or «mannen min» and
capitalised full names («Ola Hansen»). Each is replaced by a typed Bokmål placeholder
(``[telefon]``, ``[navn]`` ...) that the NLU still understands. Text is NFKC-normalised first
(full-width and other scripts' digits become ASCII digits). Public helpline numbers and help sites
from ``data/helplines.yml`` are kept. Pure functions, no I/O after import. The word lists are
data (``data/redaction/words.yml``, read by ``bot/redaction/lists.py``); digit sequences are
classified in ``bot/redaction/numbers.py``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from stdnum import iban

from bot.redaction import KINDS, Span, placeholder
from bot.redaction.lists import (
    ALLOWED_PHONES,
    ALLOWED_WEBS,
    LOWER_PLACES,
    NOT_FULL_NAMES,
    NOT_NAMES,
    NOT_PLATES,
    RELATIONS_BASE,
    RELATIONS_DEFINITE,
    SERVICE_WORDS,
    host,
)
from bot.redaction.numbers import number_spans

# The public API; ALLOWED_* are the registry's numbers and sites that are never redacted.
__all__ = ["ALLOWED_PHONES", "ALLOWED_WEBS", "KINDS", "Span", "find", "normalise", "placeholder",
           "redact"]

# A decimal digit of any other script (full-width, Arabic-Indic ...): the patterns below match
# ASCII digits only, so these are mapped to ASCII first.
OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d")
# Invisible characters that split a number or a name without showing (zero width, soft hyphen).
INVISIBLE_RE = re.compile(r"(?<=\w)[\u00ad\u200b-\u200d\u2060\ufeff]+(?=\w)")


def normalise(text: str) -> str:
    """NFKC, ASCII digits and no invisible joiners: what every pattern here is written for."""
    text = unicodedata.normalize("NFKC", text)
    text = OTHER_DIGIT_RE.sub(lambda m: str(unicodedata.digit(m.group())), text)
    return INVISIBLE_RE.sub("", text)


# --- patterns (ASCII digits only: \d would also match other scripts' digits) -----------------

_L = "A-Za-zÆØÅæøåÄÖÜäöüÉÈéèÁáÓóÍí"  # letters in Norwegian names and street names
_UP = "A-ZÆØÅÄÖÜÉÈÁÓÍ"
_LO = "a-zæøåäöüéèáóí"

PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(re.escape(k) for k in KINDS) + r")\]")

# A chain of digit groups joined by one separator, optionally led by "+".

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_URL_TAIL = r"[^\s\[\]<>\"'«»]*"
URL_RE = re.compile(
    r"(?<![\w@.-])(?:"
    r"https?://" + _URL_TAIL + r"|"
    r"www\.[\w-]+(?:\.[\w-]+)+" + _URL_TAIL + r"|"
    r"[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}/" + _URL_TAIL + r")",
    re.IGNORECASE,
)
URL_TRAILING = ".,;:!?)»\"'"

_STREET_SUFFIX_ANY = (
    r"gata|gate|gaten|gt\.|veien|vegen|vei|veg|vn\.|allé|alle|alléen|plass|plassen|torg|torget"
    r"|bakken|stien|svingen|lia|lien|kroken|ringen|brygga|bryggen|kaia|kaien|tunet|stredet"
    r"|smauet|løkka|haugen|vollen|åsen|jordet|tangen|grenda|lina|linna"
)
_STREET_SUFFIX_LOWER = (
    r"gata|gate|gaten|gt\.|veien|vegen|vei|veg|vn\.|allé|alléen|plass|plassen|torget|bakken"
    r"|stien|svingen|kroken|ringen|brygga|bryggen|stredet"
)
_HOUSE_NO = r"[0-9]{1,4}(?:[A-Za-z]|\s[A-H](?![\w]))?(?![\w])"
ADDRESS_RE = re.compile(
    r"(?<![\w])(?:"
    rf"[{_UP}][{_L}-]*(?:{_STREET_SUFFIX_ANY})"  # Storgata, Trondheimsveien, Storgt.
    rf"|[{_LO}][{_LO}-]+(?:{_STREET_SUFFIX_LOWER})"  # storgata (typed in lower case)
    rf"|(?:[{_UP}][{_L}.'-]*\s){{1,2}}(?:gate|gata|gt\.|vei|veg|vegen|veien|allé|alle|plass|torg)"
    rf"|(?:[{_LO}][{_LO}-]+s\s)(?:gate|gata|vei|veg|allé|plass)"  # kongens gate
    rf")\s+{_HOUSE_NO}"
)
POSTCODE_PLACE_RE = re.compile(rf"(?<![\w.,])([0-9]{{4}})\s+([{_L}][{_L}-]+)")
POSTCODE_CUE_RE = re.compile(
    r"(?i:postnummer(?:et)?(?:\s+mitt)?(?:\s+er)?|postnr\.?)\s*:?\s*([0-9]{4})(?![0-9])"
)
YEAR_CUE_RE = re.compile(
    r"(?i:\b(?:i|år|året|fra|siden|til|før|etter|høsten|våren|sommeren|vinteren|julen|in)\s+)$"
)

# A street name without a house number: capitalised with a street suffix that is rarely
# anything else («Storgata», «Kirkeveien»), a genitive and «gate»/«vei» («Karl Johans gate»),
# or any street-like word right after «bor i», «adressen er» ... («bor i elvebakken»).
_STREET_STRONG = r"gata|gate|gaten|gt\.|veien|vegen|vei|veg|vn\.|allé|alléen"
STREET_RE = re.compile(
    rf"(?<![\w])(?:[{_UP}][{_LO}]+(?:-[{_LO}]+)*(?:{_STREET_STRONG})"
    rf"|(?:[{_UP}][{_LO}]+\s)?[{_UP}][{_LO}]+s\s(?:gate|gata|gt\.|vei|veg|vegen|veien|plass)"
    rf"|[{_UP}][{_LO}]+\sallé)(?![\w])"
)
STREET_CUE_RE = re.compile(
    r"(?<![\w])(?i:bor\s+(?:i|på)|bodde\s+(?:i|på)|flytte[rt]?\s+til|adresse(?:n)?"
    r"(?:\s+(?:min|mi|hans|hennes|vår|deres))?\s*(?:er|:)|(?:i|på)\s+gata)\s+"
    rf"((?:[{_UP}][{_LO}]+\s)?[{_L}][{_LO}]+(?:-[{_LO}]+)*(?:{_STREET_SUFFIX_ANY}))(?![\w])"
)
# Bank accounts abroad: IBAN, with or without spaces in groups of four.
IBAN_RE = re.compile(
    r"(?<![\w])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?(?![\w])"
)
# Norwegian licence plates: two letters and five digits («EL 12345», «AB-12345»).
PLATE_RE = re.compile(r"(?<![\w])([A-Za-z]{2})[ \-]?[0-9]{5}(?![\w])")
# Passports: after a cue, or the shape of one (one or two capitals and 6–8 digits).
PASSPORT_CUE_RE = re.compile(
    r"(?<![\w])(?i:pass(?:et|nummer|nummeret|nr\.?)?)(?:\s+(?:mitt|min|hans|hennes|vårt))?"
    r"(?:\s+(?:er|har\s+nummer))?\s*:?\s*([A-Za-z0-9]{6,10})(?![\w])"
)
PASSPORT_RE = re.compile(r"(?<![\w])[A-Z]{1,2}[0-9]{6,8}(?![\w])")
IPV4_RE = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![\w]|\.[0-9])")
IPV6_RE = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:)[0-9A-Fa-f:.]{2,45}(?![\w:])")
# E-mail written around filters: «kari (at) example», «kari@example», «kari krøll example dot no».
_AT = (r"(?:@|\s@\s|\s*[(\[{<]\s*(?:at|krøll|alfakrøll|snabel-a)\s*[)\]}>]\s*"
       r"|\s(?:krøll|alfakrøll|snabel-a)\s)")
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|punktum|prikk)\s*[)\]}>]\s*|\s(?:dot|punktum|prikk)\s)"
OBFUSCATED_EMAIL_RE = re.compile(
    rf"(?<![\w.+@-])[\w.+-]*\w(?i:{_AT})[\w-]+(?:(?i:{_DOT})[\w-]+)*(?![\w@])"
)
# Social media handles: «@kari_92», or after a platform («snap: kari92», «insta er kari.n»).
HANDLE_RE = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")
HANDLE_CUE_RE = re.compile(
    r"(?<![\w])(?i:snap(?:chat)?|insta(?:gram)?|tiktok|twitter|discord|telegram|kik|facebook|fb"
    r"|threads|brukernavn(?:et)?)(?:\s+(?:mitt|min|hans|hennes|vårt))?(?i:\s*(:)|\s+(er|heter))"
    r"\s+@?([A-Za-z0-9_][A-Za-z0-9_.\-]{1,29}[A-Za-z0-9_])(?![\w@])"
)

# Cues after which the next word(s) are a name. Lower-case names are accepted after «heter».
_REL_DEF, _REL_BASE = RELATIONS_DEFINITE, RELATIONS_BASE
_POSS = "min|mi|mitt|mine|vår|våre"
LOWER_NAME_CUE_RE = re.compile(
    r"(?<![\w])(?:(?i:jeg\s+heter|jeg\s+kalles|kall\s+meg|mitt\s+navn\s+er|navnet\s+mitt\s+er"
    r"|han\s+heter|hun\s+heter|hen\s+heter|de\s+heter|som\s+heter|heter\s+han|heter\s+hun"
    r"|navnet\s+hans\s+er|navnet\s+hennes\s+er|navnet\s+på\s+(?:han|henne|ham)\s+er"
    r"|jeg\s+het|han\s+het|hun\s+het)"
    rf"|(?i:(?:(?:{_REL_DEF})\s+(?:{_POSS})|(?:min|mi|mitt|vår)\s+(?:{_REL_BASE}))"
    r"\s+(?:heter|het|kalles)))"  # «mannen min heter petter»
    r"\s*[,:]?\s+"
)
REL_NAME_CUE_RE = re.compile(
    rf"(?<![\w])(?i:(?:{_REL_DEF})\s+(?:{_POSS})|(?:min|mi|mitt|vår)\s+(?:{_REL_BASE})"
    r"|heter|het|kalles|kaller\s+seg)"
    r"\s*[,:]?\s+"
)
CAP_WORD_RE = re.compile(rf"[{_UP}][{_L}]*(?:[-'’][{_L}]+)*(?![\w])")
LOW_WORD_RE = re.compile(rf"[{_LO}][{_L}]*(?:-[{_L}]+)*(?![\w])")
NAME_JOIN_RE = re.compile(r"\s*(?:,|\bog\b)\s*")
SPACE_RE = re.compile(r"[ \t]+")
TITLE_WORD_RE = re.compile(rf"[{_UP}][{_LO}]+(?:-[{_UP}]?[{_LO}]+)*(?![\w])")


# --- other detectors --------------------------------------------------------------------------


def _url_spans(text: str) -> tuple[list[Span], list[Span]]:
    """(URLs to redact, allowed help-site URLs that nothing else may redact)."""
    redact_spans: list[Span] = []
    keep: list[Span] = []
    for m in URL_RE.finditer(text):
        start, end = m.start(), m.end()
        while end > start and text[end - 1] in URL_TRAILING:
            end -= 1
        if end <= start:
            continue
        url = text[start:end]
        url_host = host(url)
        if url_host in ALLOWED_WEBS and "?" not in url and "#" not in url:
            keep.append(Span(start, end, "nettadresse"))
        else:
            redact_spans.append(Span(start, end, "nettadresse"))
    return redact_spans, keep


def _postcode_spans(text: str) -> list[Span]:
    spans = [Span(m.start(1), m.end(1), "postnummer") for m in POSTCODE_CUE_RE.finditer(text)]
    for m in POSTCODE_PLACE_RE.finditer(text):
        place = m.group(2)
        low = place.lower()
        if low in NOT_NAMES or low in ("kr", "kroner", "nok", "euro", "ganger", "gang", "barn"):
            continue
        if place[0].islower() and low not in LOWER_PLACES:
            continue
        number = int(m.group(1))
        if 1900 <= number <= 2039 and YEAR_CUE_RE.search(text, max(0, m.start() - 12), m.start()):
            continue
        spans.append(Span(m.start(1), m.end(1), "postnummer"))
    return spans


def _name_after(text: str, pos: int, allow_lower: bool) -> int | None:
    """End of the name starting at ``pos``, or None when the next word is not a name."""
    m = CAP_WORD_RE.match(text, pos)
    lower_first = False
    if not m and allow_lower:
        m = LOW_WORD_RE.match(text, pos)
        lower_first = True
    if not m or m.group().lower() in NOT_NAMES or len(m.group()) < 2:
        return None
    end = m.end()
    words = 1
    while words < 3:  # «Kari Anne Nordmann», «ola nordmann»
        sp = SPACE_RE.match(text, end)
        if not sp:
            break
        nxt = CAP_WORD_RE.match(text, sp.end())
        if not nxt and lower_first:
            nxt = LOW_WORD_RE.match(text, sp.end())
        if not nxt or nxt.group().lower() in NOT_NAMES:
            break
        end, words = nxt.end(), words + 1
    for _ in range(4):  # «sønnene mine Emil og Sara»
        join = NAME_JOIN_RE.match(text, end)
        if not join or join.end() == end:
            break
        nxt = CAP_WORD_RE.match(text, join.end())
        if not nxt or nxt.group().lower() in NOT_NAMES:
            break
        end = nxt.end()
    return end


def _full_name_spans(text: str) -> list[Span]:
    """Two or three capitalised words in a row that are not common words: «Ola Hansen slår
    meg». Sentence starts are not exempt: «Trude Olsen» leads a message as often as not."""
    spans: list[Span] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if len(run) >= 2:
            spans.append(Span(run[0][0], run[min(len(run), 3) - 1][1], "navn"))
        run.clear()

    for m in TITLE_WORD_RE.finditer(text):
        word = m.group().lower()
        stop = word in NOT_NAMES or word in NOT_FULL_NAMES or word in SERVICE_WORDS
        if stop or (run and not SPACE_RE.fullmatch(text, run[-1][1], m.start())):
            flush()
        if not stop and (m.start() == 0 or not (text[m.start() - 1].isalnum()
                                                 or text[m.start() - 1] in "-'’")):
            run.append((m.start(), m.end()))
    flush()
    return spans


def _other_spans(text: str) -> list[Span]:
    """IP addresses, IBANs, plates, passports, streets without a number, obfuscated e-mail and
    social handles."""
    spans: list[Span] = []
    for m in IPV4_RE.finditer(text):
        if _is_ip(m.group(), 4):
            spans.append(Span(m.start(), m.end(), "ip-adresse"))
    for m in IPV6_RE.finditer(text):
        candidate = m.group().rstrip(".")
        if any(c.isalnum() for c in candidate) and _is_ip(candidate, 6):
            spans.append(Span(m.start(), m.start() + len(candidate), "ip-adresse"))
    for m in IBAN_RE.finditer(text):
        # A valid IBAN, or a Norwegian one with a typo (the shape alone is someone's account).
        body = m.group().replace(" ", "").upper()
        if iban.is_valid(body) or (body.startswith("NO") and len(body) == 15
                                   and body[2:].isdigit()):
            spans.append(Span(m.start(), m.end(), "kontonummer"))
    for m in PLATE_RE.finditer(text):
        letters = m.group(1)
        if letters.isupper() or letters.lower() not in NOT_PLATES:
            spans.append(Span(m.start(), m.end(), "bilnummer"))
    for m in PASSPORT_CUE_RE.finditer(text):
        if sum(c.isdigit() for c in m.group(1)) >= 3:
            spans.append(Span(m.start(1), m.end(1), "passnummer"))
    spans += [Span(m.start(), m.end(), "passnummer") for m in PASSPORT_RE.finditer(text)]
    spans += [Span(m.start(), m.end(), "adresse") for m in STREET_RE.finditer(text)]
    spans += [Span(m.start(1), m.end(1), "adresse") for m in STREET_CUE_RE.finditer(text)]
    spans += [Span(m.start(), m.end(), "e-post") for m in OBFUSCATED_EMAIL_RE.finditer(text)]
    spans += [Span(m.start(), m.end(), "brukernavn") for m in HANDLE_RE.finditer(text)]
    for m in HANDLE_CUE_RE.finditer(text):
        handle = m.group(3)
        handle_like = m.group(1) or any(c.isdigit() or c in "_." for c in handle)
        if handle_like and handle.lower() not in NOT_NAMES:
            spans.append(Span(m.start(3), m.end(3), "brukernavn"))
    return spans


def _is_ip(candidate: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(candidate).version == version
    except ValueError:
        return False


def _name_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for regex, allow_lower in ((LOWER_NAME_CUE_RE, True), (REL_NAME_CUE_RE, False)):
        for cue in regex.finditer(text):
            end = _name_after(text, cue.end(), allow_lower)
            if end is not None:
                spans.append(Span(cue.end(), end, "navn"))
    return spans


# --- public API -------------------------------------------------------------------------------


def find(text: str) -> list[Span]:
    """Non-overlapping identifiers in ``text``, in order; existing placeholders never match."""
    if not isinstance(text, str) or not text:
        return []
    blocked = [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]
    urls, keep = _url_spans(text)
    blocked.extend((s.start, s.end) for s in keep)
    candidates: list[Span] = [Span(m.start(), m.end(), "e-post") for m in EMAIL_RE.finditer(text)]
    candidates += urls
    if any("0" <= ch <= "9" for ch in text):
        candidates += number_spans(text)
        candidates += [Span(m.start(), m.end(), "adresse") for m in ADDRESS_RE.finditer(text)]
        candidates += _postcode_spans(text)
    candidates += _other_spans(text)
    candidates += _name_spans(text)
    candidates += _full_name_spans(text)
    candidates.sort(key=lambda s: (s.start, -(s.end - s.start)))
    result: list[Span] = []
    last_end = 0
    for span in candidates:
        if span.start < last_end or span.end <= span.start:
            continue
        if any(span.start < b and a < span.end for a, b in blocked):
            continue
        result.append(span)
        last_end = span.end
    return result


def _apply(text: str, spans: list[Span]) -> str:
    parts: list[str] = []
    pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(placeholder(span.kind))
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def redact(text: str) -> str:
    """``text`` with every identifier replaced by its placeholder. Idempotent; never raises."""
    if not isinstance(text, str):
        return ""
    try:
        text = normalise(text)
        for _ in range(4):  # replacing can, rarely, expose a new match; stop at a fixed point
            spans = find(text)
            if not spans:
                return text
            text = _apply(text, spans)
        return text
    except Exception:  # noqa: BLE001 - a bug here must never leak the message
        return "[fjernet]" if text else text
