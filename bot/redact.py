"""Redaction of personal data from user messages before anything else sees or keeps them.

This module owns the rule that no personal identifier leaves the message: fødselsnummer and
D-nummer, phone numbers, e-mail and web addresses, street addresses, postcodes, bank account and
card numbers, and names after cues such as «jeg heter» or «mannen min». Each is replaced by a typed
Bokmål placeholder (``[telefon]``, ``[navn]`` ...) that the NLU still understands. Public helpline
numbers and help sites from ``data/helplines.yml`` are kept. Pure functions, no I/O after import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import yaml
from stdnum.no import fodselsnummer, kontonr

HELPLINES = Path(__file__).resolve().parent.parent / "data" / "helplines.yml"

KINDS = (
    "fødselsnummer",
    "telefon",
    "e-post",
    "adresse",
    "postnummer",
    "kontonummer",
    "kortnummer",
    "nettadresse",
    "navn",
)


class Span(NamedTuple):
    """A personal identifier at ``text[start:end]``; ``kind`` is the placeholder name."""

    start: int
    end: int
    kind: str


def placeholder(kind: str) -> str:
    """The text that replaces an identifier of ``kind``, e.g. ``[telefon]``."""
    return f"[{kind}]"


def _load_allow_lists(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Public service phone numbers (digits only) and help-site domains from the registry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phones: set[str] = set()
    webs: set[str] = set()
    for entry in (data.get("resources") or {}).values():
        if not isinstance(entry, dict):
            continue
        phone = entry.get("phone")
        if phone:
            phones.add(re.sub(r"[^0-9]", "", str(phone)))
        for holder in (entry, entry.get("chat")):
            if isinstance(holder, dict) and holder.get("web"):
                webs.add(_host(str(holder["web"])))
    phones.discard("")
    webs.discard("")
    return frozenset(phones), frozenset(webs)


def _host(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url.strip().lower())
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    return host[4:] if host.startswith("www.") else host


ALLOWED_PHONES, ALLOWED_WEBS = _load_allow_lists(HELPLINES)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- patterns (ASCII digits only: \d would also match other scripts' digits) -----------------

_L = "A-Za-zÆØÅæøåÄÖÜäöüÉÈéèÁáÓóÍí"  # letters in Norwegian names and street names
_UP = "A-ZÆØÅÄÖÜÉÈÁÓÍ"
_LO = "a-zæøåäöüéèáóí"

PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(re.escape(k) for k in KINDS) + r")\]")

# A chain of digit groups joined by one separator, optionally led by "+".
NUMBER_CHAIN_RE = re.compile(r"(?<![\w+])(?:\+\s?)?[0-9]+(?:[ \-.\u00a0][0-9]+)*(?![0-9])(?!\w)")
DIGIT_GROUP_RE = re.compile(r"[0-9]+")
CURRENCY_AFTER_RE = re.compile(r"\s*(?:kr\b|kroner\b|nok\b|,-|€|\$|euro\b)", re.IGNORECASE)

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
# Places people commonly write in lower case after a postcode.
LOWER_PLACES = _words(
    """
    oslo bergen trondheim stavanger tromsø kristiansand drammen fredrikstad sandnes bodø ålesund
    sarpsborg skien porsgrunn haugesund tønsberg moss arendal hamar lillehammer molde gjøvik
    larvik halden harstad kongsberg narvik alta steinkjer askøy sandefjord lørenskog
    """
)

# Cues after which the next word(s) are a name. Lower-case names are accepted after «heter».
_REL_DEF = (
    "mannen|kona|konen|samboeren|kjæresten|eksen|eksmannen|ekskona|ekskonen|eksamboeren"
    "|ekskjæresten|typen|dama|partneren|ektemannen|ektefellen|sønnen|sønnene|datteren|dattera"
    "|døtrene|barna|broren|brødrene|søsteren|søstera|søstrene|faren|fara|moren|mora|stefaren"
    "|stemoren|stemora|pappaen|mammaen|onkelen|tanten|tante|fetteren|kusinen|bestefaren"
    "|bestemoren|bestemora|venninnen|venninna|vennen|kompisen|kameraten|naboen|sjefen"
    "|svigerfaren|svigermoren|svigermora|svogeren|svigerinnen|læreren|kontaktlæreren|pappa|mamma"
)
_REL_BASE = (
    "mann|kone|samboer|kjæreste|eks|ektemann|ektefelle|partner|sønn|datter|bror|søster|far"
    "|mor|stefar|stemor|pappa|mamma|onkel|tante|fetter|kusine|venn|venninne|kompis|nabo|sjef"
    "|svigerfar|svigermor|lærer"
)
_POSS = "min|mi|mitt|mine|vår|våre"
LOWER_NAME_CUE_RE = re.compile(
    r"(?<![\w])(?i:jeg\s+heter|jeg\s+kalles|kall\s+meg|mitt\s+navn\s+er|navnet\s+mitt\s+er"
    r"|han\s+heter|hun\s+heter|hen\s+heter|de\s+heter|som\s+heter|heter\s+han|heter\s+hun"
    r"|navnet\s+hans\s+er|navnet\s+hennes\s+er|navnet\s+på\s+(?:han|henne|ham)\s+er"
    r"|jeg\s+het|han\s+het|hun\s+het)"
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

# Words that are never a name after a cue (compared in lower case).
NOT_NAMES = _words(
    """
    jeg du han hun hen vi dere de den det dette denne disse meg deg seg oss dem ham henne hans
    hennes min mi mitt mine din di ditt dine sin si sitt sine vår våre deres og eller men så som
    at er var vært har hadde blir ble vil ville skal skulle kan kunne må måtte bør burde får fikk
    ikke aldri alltid også bare jo nok vel da nå her der hit dit i på til fra med om av for hos
    etter før under over mot uten ved inn ut opp ned hjem en ei et noe noen ingen alt alle hva
    hvem hvor hvorfor når hvordan hvis fordi selv hei hallo heisann takk ja nei egentlig faktisk
    liksom visst sånn slik heller kanskje sikkert altså bare helt veldig litt mye mer mest
    hjelp hjelpe redd sjalu sint sinna full syk snill slem voldelig farlig slår slo slått truer
    truet sier sa gjør gjorde tar tok kommer kom går gikk bor bodde heter het sover sov jobber
    drikker drakk ruser skriker skrek kjefter kjeftet dytter dyttet lyver løy kontrollerer
    kontrollerte passer følger fulgte ringer ringte sender sendte vet visste tror trodde tenker
    ser så sitter står ligger trenger trengte prøver prøvde elsker hater liker lurer mener
    ønsker orker klarer tørr tør tørs husker glemmer skjønner forstår forteller fortalte
    snakker snakket spør spurte svarer låser låste nekter nektet tvinger tvang presser presset
    holder holdt bruker brukte mishandler voldtok voldtar misbruker truende
    ok okei unnskyld sorry beklager please uansett dessverre heldigvis ellers
    hjemme borte ute inne igjen snart tidligere senere lenge ofte noen gang gang ganger dag
    dager natt kveld morgen uke uker år måned måneder siden
    vonr bot chat
    mann kone samboer kjæreste eks barn sønn datter mor far mamma pappa bror søster venn
    politiet politi barnevernet barnevern nav legen lege skolen krisesenteret
    """
)


# --- number classification --------------------------------------------------------------------


def _plausible_birth_date(digits: str) -> bool:
    """First six digits DDMMYY: day 01–31 (+40 D-number), month 01–12 (+40 H-, +80 synthetic)."""
    day, month = int(digits[0:2]), int(digits[2:4])
    if day > 40:
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    return 1 <= day <= 31 and 1 <= month <= 12


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_shape(lengths: tuple[int, ...]) -> bool:
    if len(lengths) == 1:
        return True
    if lengths in ((4, 6, 4), (4, 6, 5)):
        return True
    return all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _phone_kind(
    digits: str, lengths: tuple[int, ...], international: bool, seps: str
) -> str | None:
    if "." in seps:
        return None
    if international:
        if not 8 <= len(digits) <= 15:
            return None
        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            return None
        national = str(number.national_number)
        if national in ALLOWED_PHONES or digits in ALLOWED_PHONES:
            return None
        return "telefon" if phonenumbers.is_valid_number(number) else None
    if len(digits) != 8 or digits in ALLOWED_PHONES:
        return None
    if len(lengths) > 1 and min(lengths) < 2:
        return None
    if digits[0] in "49":  # the whole 4 and 9 series is mobile, assigned or not yet
        return "telefon"
    try:
        number = phonenumbers.parse(digits, "NO")
    except phonenumbers.NumberParseException:
        return None
    return "telefon" if phonenumbers.is_valid_number(number) else None


def _shape_possible(lengths: tuple[int, ...]) -> bool:
    """Cheap pre-check: could a national number with these digit groups be any identifier?"""
    n = sum(lengths)
    if n == 8:
        return len(lengths) == 1 or min(lengths) >= 2
    if n == 11:
        return lengths in ((11,), (6, 5), (4, 2, 5))
    return 13 <= n <= 19 and _card_shape(lengths)


def _classify_number(
    digits: str, lengths: tuple[int, ...], seps: str, international: bool
) -> str | None:
    """The kind of identifier one window of digit groups is, or None."""
    n = len(digits)
    if international:
        return _phone_kind(digits, lengths, True, seps)
    if n == 11:
        if lengths == (4, 2, 5) and seps in ("  ", ".."):
            return "kontonummer"
        if lengths in ((11,), (6, 5)) and seps in ("", " "):
            if fodselsnummer.is_valid(digits) or _plausible_birth_date(digits):
                return "fødselsnummer"
            if lengths == (11,) and kontonr.is_valid(digits):
                return "kontonummer"
        return None
    if 13 <= n <= 19:
        if "." not in seps and _card_shape(lengths) and _luhn_ok(digits):
            return "kortnummer"
        return None
    if n == 8:
        return _phone_kind(digits, lengths, False, seps)
    return None


def _number_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for chain in NUMBER_CHAIN_RE.finditer(text):
        groups = [
            (g.start(), g.end()) for g in DIGIT_GROUP_RE.finditer(text, chain.start(), chain.end())
        ]
        plus = text[chain.start()] == "+"
        if len(groups) == 1 and groups[0][1] - groups[0][0] < 8 and not plus:
            continue
        i = 0
        while i < len(groups):
            # Widest window first: digit count grows with j, so stop past 19 digits.
            ends: list[int] = []
            count = 0
            for j in range(i, len(groups)):
                count += groups[j][1] - groups[j][0]
                if count > 19:
                    break
                if count >= 8:
                    ends.append(j)
            found = None
            for j in reversed(ends):
                window = groups[i : j + 1]
                lengths = tuple(b - a for a, b in window)
                start, end = window[0][0], window[-1][1]
                international = (i == 0 and plus) or (
                    3 <= lengths[0] <= 5 and text.startswith("00", start)
                )
                if not international and not _shape_possible(lengths):
                    continue
                digits = "".join(text[a:b] for a, b in window)
                seps = "".join(text[window[k][1]] for k in range(len(window) - 1))
                if i == 0 and plus:
                    start = chain.start()
                elif international:
                    digits = digits[2:]
                if not international and CURRENCY_AFTER_RE.match(text, end):
                    continue
                kind = _classify_number(digits, lengths, seps, international)
                if kind:
                    found = Span(start, end, kind)
                    i = j + 1
                    break
            if found:
                spans.append(found)
            else:
                i += 1
    return spans


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
        host = _host(url)
        if host in ALLOWED_WEBS and "?" not in url and "#" not in url:
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
        candidates += _number_spans(text)
        candidates += [Span(m.start(), m.end(), "adresse") for m in ADDRESS_RE.finditer(text)]
        candidates += _postcode_spans(text)
    candidates += _name_spans(text)
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
        for _ in range(4):  # replacing can, rarely, expose a new match; stop at a fixed point
            spans = find(text)
            if not spans:
                return text
            text = _apply(text, spans)
        return text
    except Exception:  # noqa: BLE001 - a bug here must never leak the message
        return "[fjernet]" if text else text
