"""Redaction of personal data from user messages before anything else sees or keeps them.

This module owns the rule that no personal identifier leaves the message: fødselsnummer and
D-nummer, phone numbers, e-mail and web addresses, IP addresses, street addresses (with or
without a house number), postcodes, bank account (also IBAN) and card numbers, licence plates,
passport numbers, social media handles, names after cues such as «jeg heter» or «mannen min» and
capitalised full names («Ola Hansen»). Each is replaced by a typed Bokmål placeholder
(``[telefon]``, ``[navn]`` ...) that the NLU still understands. Text is NFKC-normalised first
(full-width and other scripts' digits become ASCII digits). Public helpline numbers and help sites
from ``data/helplines.yml`` are kept. Pure functions, no I/O after import.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import yaml
from stdnum import iban
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
    "ip-adresse",
    "bilnummer",
    "passnummer",
    "brukernavn",
)


class Span(NamedTuple):
    """A personal identifier at ``text[start:end]``; ``kind`` is the placeholder name."""

    start: int
    end: int
    kind: str


def placeholder(kind: str) -> str:
    """The text that replaces an identifier of ``kind``, e.g. ``[telefon]``."""
    return f"[{kind}]"


def _load_allow_lists(path: Path) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Public service phone numbers (digits only), help-site domains and the words of service
    names («Mental Helse», «Røde Kors»: capitalised, but not a person) from the registry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phones: set[str] = set()
    webs: set[str] = set()
    words: set[str] = set()
    for entry in (data.get("resources") or {}).values():
        if not isinstance(entry, dict):
            continue
        words.update(w.lower() for w in re.findall(r"[^\W\d_]+", str(entry.get("name") or "")))
        phone = entry.get("phone")
        if phone:
            phones.add(re.sub(r"[^0-9]", "", str(phone)))
        for holder in (entry, entry.get("chat")):
            if isinstance(holder, dict) and holder.get("web"):
                webs.add(_host(str(holder["web"])))
    phones.discard("")
    webs.discard("")
    return frozenset(phones), frozenset(webs), frozenset(words)


def _host(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url.strip().lower())
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    return host[4:] if host.startswith("www.") else host


ALLOWED_PHONES, ALLOWED_WEBS, SERVICE_WORDS = _load_allow_lists(HELPLINES)

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
# Two lower-case letters before five digits that are not a plate.
NOT_PLATES = _words("kr nr kl ca er se vs mm km kg pr st av og på om fx ex tv")
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


# Capitalised words that are not a person's name, so two of them in a row are not a full name
# («Mental Helse», «Røde Kors», «God jul»); the registry's service names are added to these.
NOT_FULL_NAMES = _words(
    """
    hei hallo god godt jul nytt år påske mandag tirsdag onsdag torsdag fredag lørdag søndag
    januar februar mars april mai juni juli august september oktober november desember
    norge norsk norske norway sverige danmark europa nord sør øst vest sentrum
    politiet politi barnevernet barnevern nav krisesenteret krisesenter krisesentrene
    statens barnehus bufetat familievernet familievernkontoret tingretten lagmannsretten
    høyesterett kommune kommunen fylke fylkeskommune legevakten legevakt sykehus sykehuset
    facebook instagram snapchat tiktok google whatsapp messenger youtube iphone android apple
    please help me my the is it you thank thanks hello hi sorry okay yes no dear
    dette denne kjære herr fru frøken doktor dr
    """
) | LOWER_PLACES
TITLE_WORD_RE = re.compile(rf"[{_UP}][{_LO}]+(?:-[{_UP}]?[{_LO}]+)*(?![\w])")


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
    # Dots join phone groups too («912.34.567», «91.23.45.67»), but only in a phone's grouping:
    # other dotted numbers are dates and amounts («24.12.2022», «1.234.567»).
    if "." in seps and not international and (seps != "." * len(seps) or lengths not in DOTTED):
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


DOTTED = ((3, 2, 3), (2, 2, 2, 2), (4, 4))
# Ways a fødselsnummer is written: as one, birth date and personal number («150765 00565»), or
# birth date, individual number and check digits («150765 005 65»).
FNR_SHAPES = ((11,), (6, 5), (6, 3, 2))


def _shape_possible(lengths: tuple[int, ...]) -> bool:
    """Cheap pre-check: could a national number with these digit groups be any identifier?"""
    n = sum(lengths)
    if n == 8:
        return len(lengths) == 1 or min(lengths) >= 2
    if n == 11:
        return lengths in (*FNR_SHAPES, (4, 2, 5))
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
        if lengths in FNR_SHAPES and len(set(seps)) <= 1 and seps[:1] in ("", " ", "-", "."):
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
        candidates += _number_spans(text)
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
