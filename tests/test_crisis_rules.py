"""Crisis rule layer (bot/crisis.py): our own dev set plus focused unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.crisis import Crisis, detect
from bot.crisis_contract import CATEGORIES, FALLBACK_INTENT, PARSE_KEY
from bot.nlp import PIPELINE_DIR as PIPELINE

ROOT = Path(__file__).resolve().parent.parent
DEV = yaml.safe_load((ROOT / "tests" / "crisis" / "dev_cases.yml").read_text(encoding="utf-8"))
MAX_FPR = 0.05


@pytest.fixture(scope="module")
def lemmatise() -> Any:
    spacy = pytest.importorskip("spacy")
    if not PIPELINE.exists():
        pytest.skip(f"spaCy pipeline not built: {PIPELINE}")
    nlp = spacy.load(PIPELINE)

    def run(text: str) -> list[str]:
        return [t.lemma_ for t in nlp(text.lower())]

    return run


def test_dev_set_size() -> None:
    assert len(DEV["crisis"]) >= 120
    assert len(DEV["non_crisis"]) >= 120
    for case in DEV["crisis"]:
        assert case["categories"] and set(case["categories"]) <= set(CATEGORIES), case


@pytest.mark.parametrize("use_lemmas", [True, False], ids=["lemmas", "no-lemmas"])
def test_dev_recall_is_total(lemmatise: Any, use_lemmas: bool) -> None:
    misses = []
    for case in DEV["crisis"]:
        found = detect(case["text"], lemmatise(case["text"]) if use_lemmas else None)
        missing = set(case["categories"]) - set(found.categories)
        if missing:
            misses.append((case["text"], sorted(missing), found.categories))
    assert not misses, "\n".join(map(str, misses))


@pytest.mark.parametrize("use_lemmas", [True, False], ids=["lemmas", "no-lemmas"])
def test_dev_false_positive_rate(lemmatise: Any, use_lemmas: bool) -> None:
    alarms = []
    for case in DEV["non_crisis"]:
        found = detect(case["text"], lemmatise(case["text"]) if use_lemmas else None)
        if found.categories:
            alarms.append((case["text"], found.categories))
    assert len(alarms) / len(DEV["non_crisis"]) <= MAX_FPR, "\n".join(map(str, alarms))


def test_categories_come_in_priority_order() -> None:
    found = detect("jeg er 14 og pappa slår meg akkurat nå, jeg vil bare dø")
    assert found.categories == ("acute", "suicide", "child")


@pytest.mark.parametrize(
    "text",
    [
        "jeg er ikke i fare nå",
        "Jeg er ikke i fare nå.",
        "han slår meg ikke lenger",
        "I'm safe now but he threatened to kill me",
    ],
)
def test_negation_keeps_numbers(text: str) -> None:
    found = detect(text)
    assert found.categories, "negated danger must still show the numbers"
    assert found.negated


@pytest.mark.parametrize(
    "text",
    [
        "jeg er ikke i fare nå men han står utenfor døra",
        "er trygg nå, men han har kniv og er på vei hit",
        "ikke i fare nå, hjelp!",
    ],
)
def test_negation_does_not_hide_present_danger(text: str) -> None:
    found = detect(text)
    assert "acute" in found.categories
    assert not found.negated


def test_negation_does_not_soften_suicide() -> None:
    found = detect("jeg er trygg nå men vil bare dø")
    assert "suicide" in found.categories
    assert not found.negated


@pytest.mark.parametrize(
    "text",
    [
        "han slo meg for 10 år siden",
        "pappa slo meg da jeg var liten",
        "hva er menneskehandel",
        "kan man få besøksforbud",
        "hvordan anmelder man vold",
        "han slår meg ikke, men han er sjalu",
    ],
)
def test_history_questions_and_denials_are_not_acute(text: str) -> None:
    assert detect(text).categories == ()


@pytest.mark.parametrize(
    "text",
    [
        "he is hitting me right now",
        "help",
        "they took my passport",
        "I want to die",
        "my stepdad beats me",
    ],
)
def test_english_is_detected(text: str) -> None:
    found = detect(text)
    assert found.lang == "en"
    assert found.categories


@pytest.mark.parametrize("text", ["hjelp", "han slår meg nå", "eg vil berre døy", "jeg er 14"])
def test_norwegian_is_nb(text: str) -> None:
    assert detect(text).lang == "nb"


def test_lemmas_none_works() -> None:
    assert detect("han dreper meg", None) == Crisis(("acute",), False, "nb")
    assert detect("", None) == Crisis((), False, "nb")


def test_spellings_without_aeoeaa(lemmatise: Any) -> None:
    for text in ("han slar meg naa", "han star utenfor doren", "jeg bloer"):
        assert "acute" in detect(text, lemmatise(text)).categories, text


@pytest.mark.parametrize(
    "text",
    [
        "han lugger meg når han er full",
        "hun klorer meg hver gang vi krangler",
        "kjæresten min slo meg i går, men nå er alt bra",
        "kan politiet gi meg alarm i tilfelle han kommer",
    ],
)
def test_habitual_recent_past_and_conditional_are_not_acute(text: str) -> None:
    found = detect(text)
    assert "acute" not in found.categories
    assert "acute" in found.calm


@pytest.mark.parametrize(
    "text",
    [
        "han truer med å drepe meg når han drikker",
        "han kveler meg når han blir sint",
        "han slår meg og har slått babyen før",
    ],
)
def test_threats_strangling_and_ongoing_violence_stay_acute(text: str) -> None:
    assert "acute" in detect(text).categories


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeg er 15 og vil ta livet mitt", {"suicide", "child"}),
        ("i'm 14 and i want to die", {"suicide", "child"}),
        ("er 16 og må selge sex for å betale gjeld", {"trafficking", "child"}),
        ("jeg er 15 og familien skal gifte meg bort", {"child"}),
        ("jeg har svelget en hel eske med paracet", {"suicide", "acute"}),
        ("han skriver at han tar ungene med seg i døden", {"acute", "child"}),
    ],
)
def test_combined_categories(text: str, expected: set[str]) -> None:
    assert expected <= set(detect(text).categories)


def test_calm_lists_what_context_argues_against() -> None:
    assert set(detect("hva er selvmordstanker").calm) == set(CATEGORIES)
    assert "suicide" in detect("har ikke selvmordstanker, men vil snakke med noen").calm
    assert "child" in detect("jeg er 45 og lurer på skilsmisse").calm
    assert detect("han står utenfor døra nå").calm == ()


def test_a_hit_the_context_sets_aside_is_kept_as_framed() -> None:
    """A question or the past sets a hit aside (no crisis reply); it is kept in `framed` for the
    maybe tier unless the message says it is over or the writer is safe now."""
    asked = detect("hva skjer om jeg sier til læreren at pappa slår?")
    assert asked.categories == () and asked.framed == ("child",)
    assert detect("hva er menneskehandel?").framed == ("trafficking",)
    assert detect("eksen kvelte meg for åtte år siden, jeg er 40 nå").framed == ()
    assert detect("jeg ble slått som barn, er trygg nå").framed == ()
    assert detect("samfunnsfag: hva er menneskehandel?").framed == ()  # school work
    assert detect("han står utenfor døra nå").framed == ()  # found, not set aside


def test_diet_crisis_intents_no_longer_decide() -> None:
    """DIET's own crisis intent neither raises nor blocks a crisis: a top crisis intent the layer
    does not confirm gives way to the best other intent (or the fallback); the rules still hold."""
    pytest.importorskip("rasa")
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.components import CrisisDetector

    detector = CrisisDetector(CrisisDetector.get_default_config(), None, None)  # type: ignore[arg-type]

    def parse(text: str, *ranking: tuple[str, float]) -> Message:
        ranked = [{"name": n, "confidence": c} for n, c in ranking]
        message = Message({TEXT: text, INTENT: ranked[0], INTENT_RANKING_KEY: ranked})
        detector.process([message])
        return message

    question = parse("hva er selvmordstanker", ("crisis_suicide", 0.3), ("suicide_info", 0.65))
    assert question.get(INTENT)["name"] == "suicide_info"
    assert question.get(PARSE_KEY) is None  # a general question DIET knows: no safety line
    # Less sure it is that question: the rules' set-aside hit gives the safety line, not silence.
    vague = parse("hva er selvmordstanker", ("crisis_suicide", 0.6), ("suicide_info", 0.5))
    assert vague.get(INTENT)["name"] == "suicide_info"
    assert vague.get(PARSE_KEY)["maybe"] == ["suicide"]
    assert vague.get(PARSE_KEY)["categories"] == []
    unsure = parse("hva er selvmordstanker", ("crisis_suicide", 0.9), ("suicide_info", 0.1))
    assert unsure.get(INTENT)["name"] == FALLBACK_INTENT
    danger = parse("han står utenfor døra nå", ("crisis_child", 0.5), ("greet", 0.1))
    assert danger.get(PARSE_KEY)["categories"] == ["acute"]
    assert danger.get(INTENT)["name"] == "crisis_acute"


def test_described_violence_keeps_what_a_recent_date_set_aside(monkeypatch: Any) -> None:
    """In a calm question, violence described without a present cue joins the categories a recent
    date set aside: both get the maybe tier's safety line, neither is dropped."""
    pytest.importorskip("rasa")
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot import components, crisis_layer

    found = Crisis(("acute",), False, "nb", framed=("suicide",), recent=True,
                   described=("acute",))
    monkeypatch.setattr(crisis_layer.crisis, "detect", lambda text, lemmas=None: found)
    detector = components.CrisisDetector(components.CrisisDetector.get_default_config(),
                                         None, None)  # type: ignore[arg-type]
    ranked = [{"name": "is_this_violence", "confidence": 0.9}]
    message = Message({TEXT: "...", INTENT: ranked[0], INTENT_RANKING_KEY: ranked})
    detector.process([message])
    assert message.get(INTENT)["name"] == "is_this_violence"
    assert message.get(PARSE_KEY)["categories"] == []
    assert message.get(PARSE_KEY)["maybe"] == ["acute", "suicide"]


@pytest.mark.parametrize(
    "text",
    [
        "han slo meg da vi var sammen, men det er mange år siden nå, kan jeg anmelde?",
        "han truet meg i 2017, kan jeg få erstatning nå",
        "pappa slo oss på 90-tallet, jeg tenker mye på det nå som jeg har egne barn",
        "eksen kvelte meg for åtte år siden, jeg er 40 nå",
        "var i et voldelig forhold for lenge siden og sliter fortsatt med søvnen",
    ],
)
def test_weak_now_after_a_clear_past_is_history(text: str) -> None:
    found = detect(text)
    assert found.categories == ()
    assert found.calm == CATEGORIES


@pytest.mark.parametrize(
    "text",
    [
        "han slo meg for fem år siden, nå står han utenfor igjen",
        "for tre år siden truet han meg, nå truer han meg igjen",
        "eksen slo meg i 2019 og nå har han funnet adressen min",
        "han slo meg for lenge siden, og han truer meg fortsatt",
    ],
)
def test_now_in_a_danger_clause_still_lifts_the_past(text: str) -> None:
    assert "acute" in detect(text).categories


@pytest.mark.parametrize(
    "text",
    [
        "skolen tar livet av meg haha",
        "denne eksamenen tar livet av meg, hvor finner jeg info om voldsalarm",
        "jeg døde av latter",
    ],
)
def test_figures_of_speech_are_not_crises(text: str) -> None:
    found = detect(text)
    assert found.categories == ()
    assert {"acute", "suicide"} <= set(found.calm)


def test_a_young_writer_asking_about_their_own_situation_is_a_child_at_risk() -> None:
    found = detect("er det lov at mamma kaster ting på meg? er 13")
    assert "child" in found.categories
    assert "child" not in found.calm
    # Not a child's own situation: a school topic stays a question.
    assert detect("jeg er 15 og vi har om psykisk vold på skolen, hva er det").categories == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeg har låst meg inne på badet med sønnen min, han sparker på døra", {"acute", "child"}),
        ("barnebarnet mitt på 6 har blåmerker og sier faren slår ham", {"child"}),
        ("jeg er 16 og må ligge med mannen jeg bor hos for å få bli der", {"child", "trafficking"}),
        ("han slo meg med en stekepanne og nå kaster jeg opp", {"acute"}),
        ("hvor mange sovetabletter må man ta for å dø", {"suicide"}),
        ("sjefen truer med å få meg utvist hvis jeg klager, jobber uten lønn", {"trafficking"}),
    ],
)
def test_concepts_from_the_second_test_set(text: str, expected: set[str]) -> None:
    assert expected <= set(detect(text).categories)


# Rules added on 2026-12-03 (third session) from development-set misses, each with a near miss
# that must stay calm.
@pytest.mark.parametrize("text, category", [
    ("kona mi truer med å stikke meg hvis jeg prøver å gå", "acute"),
    ("har du tips til hvordan det går fortest og gjør minst vondt", "suicide"),
    ("the only way out I see is ending it", "suicide"),
    ("e det nokon vits i å leva når han alltid finn meg", "suicide"),
    ("drømmer om å forsvinne for godt", "suicide"),
    ("jeg har satt meg i bilen i garasjen med motoren på", "suicide"),
    ("dattera mi sier at mannen min tar henne på rare steder. hun er 8", "child"),
    ("nabogutten på 12 blir brukt til å frakte pakker for noen voksne", "trafficking"),
    ("hun som jobber på fabrikken har ikke fått gå ut av bygget på flere uker", "trafficking"),
    ("en venn av meg på 15 har blåmerker rundt halsen etter kjæresten", "acute"),
    ("han satt meg av ved veien, det er mørkt og jeg fryser", "acute"),
])
def test_new_rules_find(text: str, category: str) -> None:
    assert category in detect(text).categories


@pytest.mark.parametrize("text", [
    "han sier jeg blir sendt hjem hvis jeg går fra ham",  # a residence-permit threat
    "mannen min seier eg må reise ut av landet om eg går frå han",
    "hva er vitsen med å leve sunt",
    "hvordan stikker man hull på en ballong",
    "pappa tar meg med på fisketur om natta",
    "hva er den raskeste veien til byen",
])
def test_new_rules_leave_calm(text: str) -> None:
    assert detect(text).categories == ()


def test_a_key_given_twice_in_the_lexicon_is_an_error(tmp_path: Path) -> None:
    from bot import crisis_lexicon

    text = crisis_lexicon.LEXICON.read_text(encoding="utf-8")
    doubled = text.replace("  trafficking:\n", "  trafficking:\n    urgent: []\n", 1)
    path = tmp_path / "crisis.yml"
    path.write_text(doubled, encoding="utf-8")
    with pytest.raises(ValueError, match="key given twice"):
        crisis_lexicon.load(path)
    path.write_text(text, encoding="utf-8")
    assert crisis_lexicon.load(path).categories["trafficking"].urgent.search(
        "hun jobber for mat og tak over hodet")


def test_an_implied_by_entry_naming_an_unknown_cue_is_an_error(tmp_path: Path) -> None:
    from bot import crisis_lexicon

    text = crisis_lexicon.LEXICON.read_text(encoding="utf-8")
    assert "        unless: adult_voice\n" in text
    path = tmp_path / "crisis.yml"
    path.write_text(text.replace("unless: adult_voice", "unless: adult_vioce", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="adult_vioce"):
        crisis_lexicon.load(path)



def test_a_misspelt_macro_is_an_error_not_a_literal(tmp_path: Path) -> None:
    # "<BETTER_NOW>" (macro names are A-Z only) once stayed in a pattern as literal text.
    from bot import crisis_lexicon

    text = crisis_lexicon.LEXICON.read_text(encoding="utf-8")
    assert "    - <BETTERNOW>\n" in text
    path = tmp_path / "crisis.yml"
    misspelt = text.replace("    - <BETTERNOW>\n", "    - <BETTER_NOW>\n", 1)
    path.write_text(misspelt, encoding="utf-8")
    with pytest.raises(ValueError, match="BETTER_NOW"):
        crisis_lexicon.load(path)

# Readings added on 2026-12-04 (fourth session) from development-set false alarms: kinds of
# message, each checked against a crisis that must keep its category.
@pytest.mark.parametrize("text", [
    "broren min dreper meg med de vitsane sine",  # a figure of speech with a determiner
    "katten min kveler seg i båndet hver tur",  # an animal on its leash
    "jeg vil ikke leve i en verden uten sjokolade",
    "gutten min på 5 slår lillesøster hele tiden, hva gjør jeg",  # a young child hitting a sibling
    "min datter på 3 biter de andre i barnehagen",
    "han drikker mye i kveld men han er aldri voldelig",  # denied violence
    "hadde en voldelig kjæreste på videregående, er 28 nå",  # a relationship in one's teens
    "han har kjøpt en baseballkølle til sønnen",
])
def test_fourth_session_readings_leave_calm(text: str) -> None:
    assert detect(text).categories == ()


def test_play_and_sport_frame_danger_words_as_unreal() -> None:
    assert detect("ungene sier de skal drepe hverandre når de leker").unreal
    assert detect("brakk armen på ski i dag").unreal
    assert not detect("han brakk armen min i dag").unreal
    # "filmer" is also the verb: someone filming a child is no film.
    assert not detect("stefaren min filmer meg når jeg dusjer").unreal
    assert "child" in detect("stefaren min filmer meg når jeg dusjer").categories
    assert detect("skal vi se to filmer i kveld, en om en kidnapping?").unreal


@pytest.mark.parametrize("text, category", [
    ("han dreper meg, han har kniv", "acute"),
    ("min sønn på 8 blir slått av faren sin", "child"),
    ("stefaren min slår lillesøster hver dag", "child"),
    ("han slår meg nå og jeg bor trygt?", "acute"),
    ("eg vil ikkje leve lenger, orkar ikkje meir", "suicide"),
    ("han står med baseballkølle i gangen og venter på meg", "acute"),  # a compound weapon
])
def test_fourth_session_readings_keep_crises(text: str, category: str) -> None:
    assert category in detect(text).categories


# Kinds of message from set I's misses (2026-12-04), in other words than the set's.
@pytest.mark.parametrize("text, category", [
    ("hvor lang tid tar det før man forblør", "suicide"),
    ("finnes det en smertefri måte", "suicide"),
    ("eg drøymer ikkje lenger om å døy, eg planlegg det", "suicide"),
    ("kva er poenget med å halde fram med alt", "suicide"),
    ("skulle ønske et tog kunne kjøre på meg", "suicide"),
    ("har svelget alle tablettene i esken", "acute"),
    ("skar meg altfor dypt og blodet renner", "acute"),
    ("står på taket nå", "acute"),
    ("han har holdt meg innesperret i to dager", "acute"),
    ("stefar filmer meg i dusjen", "child"),
    ("treneren sender meg snaps om kroppen min", "child"),
    ("naboen har fire barn og han slår dem med belte", "child"),
    ("I think the girl in my class has bruises on her neck again", "child"),
    ("I can't go out, the man keeps my passport and my papers", "trafficking"),
])
def test_set_i_kinds_are_found(text: str, category: str) -> None:
    found = detect(text)
    assert category in found.categories + found.weak


@pytest.mark.parametrize("text", [
    "hvor lang tid tar det å koke et egg",
    "jeg drømte at jeg døde i en film",
    "vi er kvalt av skjemaer på jobben",
    "kunne drept for en pizza nå",
    "tok en overdose med pepperkaker i går lol",
    "sjefen dreper meg med e-postene sine",
    "ser på stupet på tv, så høyt",
])
def test_set_i_figures_stay_calm(text: str) -> None:
    assert detect(text).categories == ()


# Kinds of message from set J's misses and false alarms (2026-12-04), in other words than the set's.
@pytest.mark.parametrize("text, category", [
    ("gjemmer meg i skapet, han leter etter meg", "acute"),
    ("samboeren låser meg ute på verandaen og det er kaldt", "acute"),
    ("pappa jager oss rundt i stua med kniv", "acute"),
    ("tauet henger i garasjen nå", "acute"),
    ("I've swallowed all the pills in the cabinet", "suicide"),
    ("hvis jeg er borte blir det lettere for alle", "suicide"),
    ("da vil jeg heller ikke finnes", "suicide"),
    ("babyen til naboen er alene hele natta og ingen åpner", "child"),
    ("mora hans låser kjøleskapet når hun er sint", "child"),
    ("gutten på seks spiser av søppelet bak butikken", "child"),
    ("sjefen beholder passene våre i en safe", "trafficking"),
    ("agenten sier han eier meg nå", "trafficking"),
])
def test_set_j_kinds_are_found(text: str, category: str) -> None:
    assert category in detect(text).categories


@pytest.mark.parametrize("text", [
    "kneet mitt dreper meg etter løpeturen",
    "køen på E18 tar livet av meg hver morgen",
    "har fått strupetak av influensa, hva hjelper",
    "ble nesten drept på crossfit i dag",
    "vil ikke eksistere før jeg har fått kaffe",
    "kjæresten låste meg ute ved et uhell",
    "er det tvangsarbeid hvis sjefen beholder passet?",
    "eg prøvde å ta livet mitt då eg var 17, no er eg 30 og har det bra",
])
def test_set_j_figures_and_history_stay_calm(text: str) -> None:
    assert detect(text).categories == ()


# Method-seeking asked in general terms is no general question (fifth session, before set K).
@pytest.mark.parametrize("text", [
    "hvilket tau holder best til å henge seg?",
    "korleis drukner man seg",
    "hva skjer hvis man tar 30 sovepiller",
    "jeg vil henge meg",
])
def test_method_questions_are_suicide(text: str) -> None:
    assert "suicide" in detect(text).categories


@pytest.mark.parametrize("text", [
    "hva skjer om man tar 2 paracet mot hodepine?",
    "vil henge meg på turen deres til fjells",
    "kan jeg henge meg med på kinoen?",
    "har en krok til å henge jakka på",
])
def test_everyday_hanging_and_doses_stay_calm(text: str) -> None:
    assert detect(text).categories == ()


# Kinds of message from set K's misses (2026-12-04), in other words than the set's.
@pytest.mark.parametrize("text, category", [
    ("shouting again, he is throwing the plates and my little sister is hiding", "child"),
    ("shouting again, he is throwing the plates and my little sister is hiding", "acute"),
    ("har klatret over rekkverket på brua", "acute"),
    ("står på taket av blokka og tenker å hoppe", "acute"),
    ("i still owe too much for the flight they say", "trafficking"),
    ("agenten har alle papirene mine", "trafficking"),
    ("madam locked us in the storage room", "trafficking"),
    ("hvor høyt må man hoppe for å dø", "suicide"),
    ("kor høgt må ein hoppe for at ein ikkje overlever", "suicide"),
    ("dying seems easier than going back", "suicide"),
    ("står ved togskinnene igjen i kveld", "suicide"),
    ("stefaren min lugger meg når jeg taper i fifa", "acute"),
])
def test_set_k_kinds_are_found(text: str, category: str) -> None:
    found = detect(text)
    if category not in found.categories:
        # Implied by a category only a broad word found: it follows that category's fate, so
        # the classifier's agreement (`confirm`) brings both.
        from bot.crisis_verdict import decide

        assert any(c == category and set(by) & set(found.weak) for c, by in found.implied)
        agree = {c: 0.3 for c in found.weak}
        assert category in decide(found, agree, {}, 0.3, confirm=0.3).categories


@pytest.mark.parametrize("text", [
    "the kids are throwing snowballs at the neighbours",
    "skylder banken for reisen til Thailand",
    "hvor høyt må man hoppe for å komme over lista i høydehopp",
    "vil henge meg på dere når dere skal på tur",
    "må slå ihjel tre timer på Gardermoen",
    "kan ikke leve uten sjokolade på fredager",
    "skal ta livet av denne oppgaven i kveld",
    "tåka har lammet hele byen",
    "I am going to die if I have to watch that film again",
])
def test_set_k_everyday_words_stay_calm(text: str) -> None:
    assert detect(text).categories == ()


def test_a_cue_without_its_danger_is_kept_for_the_classifier() -> None:
    found = detect("mannen roper utenfor, jeg og barn er inne")
    assert found.categories == () and ("child", ("acute",)) in found.implied
    assert detect("han har kniv og slår, barna er her").implied == ()  # the rules found it all


@pytest.mark.parametrize("text", [
    "pappa har dratt mamma i håret ut på kjøkkenet nå og hun gråter",
    "stefar kaster ting på mamma akkurat nå, hun ligger på gulvet",
    "mammas kjæreste har kniv og roper at han skal drepe henne",
])
def test_a_parent_named_as_a_child_names_them_makes_a_danger_a_childs(text: str) -> None:
    found = detect(text)
    if found.categories:  # the rules found the danger: the child reply line is theirs too
        assert found.categories == ("acute", "child")
    else:  # the classifier may find it: the child follows (test_crisis_model)
        assert ("child", ("acute", "suicide")) in found.implied


@pytest.mark.parametrize("text", [
    "mannen min har kniv og roper at han skal drepe mamma",
    "pappa har kniv og truer mamma nå, jeg er 35",
    "moren min blir slått av broren min nå",
    "eksen min står utenfor hos mamma og sparker på døra nå",
])
def test_an_adult_writer_keeps_the_adult_reply(text: str) -> None:
    assert "child" not in detect(text).categories
    assert all(category != "child" for category, _ in detect(text).implied)


def test_a_child_named_in_a_crisis_is_left_to_the_classifier() -> None:
    found = detect("naboen slepte en liten jente inn i bilen og kjørte, hun skrek")
    assert "child" not in found.categories
    assert any(category == "child" for category, _ in found.leaning)
    assert detect("han har kniv og slår meg nå").leaning == ()


def test_a_parent_hurting_the_writer_is_no_game() -> None:
    assert not detect("pappa kjefter og slår meg når jeg taper kamper i spillet").unreal
    assert detect("han sparket meg i ballen i fotballkampen").unreal


# Basic Norwegian as learners write it (set L's misses were many of this kind), in other words.
@pytest.mark.parametrize("text, standard", [
    ("han slå meg hver kveld", "han slår meg hver kveld"),
    ("mann min ta passet mitt", "mann min tar passet mitt"),
    ("jeg svelge mange pille", "jeg svelge mange piller"),
    ("kan han ta barna fra meg?", "kan han ta barna fra meg?"),  # a question's inversion
    ("jeg så ham slå henne", "jeg så ham slå henne"),  # perception verb + object + infinitive
    ("jeg kunne drept for en kaffe", "jeg kunne drept for en kaffe"),  # a past tense, not a learner
])
def test_learner_forms_are_read_as_standard_forms(text: str, standard: str) -> None:
    from bot.crisis import _LEX

    assert _LEX.learner.read(text) == standard


@pytest.mark.parametrize("text, category", [
    ("hun ha kniv og si hun drepe meg", "acute"),
    ("jeg ta alle tablett nå", "acute"),
    ("mannen holdt hånda over halsen min til jeg svimte av", "acute"),
    ("eksen har kontaktforbud men står utenfor vinduet nå", "acute"),
    ("skylder sjefen for reisen hit og han sier jeg skylder han resten av livet", "trafficking"),
])
def test_set_l_kinds_are_found(text: str, category: str) -> None:
    assert category in detect(text).categories


@pytest.mark.parametrize("text, category", [
    ("jeg gjemme i en butikk", "acute"),
    ("får ikke snakke, kan dere sende politiet hit", "acute"),
    ("er på badet og kan ikkje ringe, ho høyrer alt", "acute"),
    ("hjemme er det ikke trygt lenger", "acute"),
    ("hvorfor er det så vanskelig å dø", "suicide"),
    ("jentene i leiligheten over går aldri ut alene", "trafficking"),
    ("får bare gå ut sammen med vertsfamilien", "trafficking"),
    ("har ingen pass og ingen penger, hvordan kommer jeg meg ut herfra", "acute"),
    ("hvordan eg kome meg vekk herfrå", "acute"),
    ("how do i get out of here, they watch the door", "acute"),
])
def test_set_l_broad_kinds_need_the_classifier(text: str, category: str) -> None:
    # Each has an everyday reading too: found, but weak (the classifier confirms, or the maybe
    # tier asks "Er du trygg akkurat nå?").
    found = detect(text)
    assert category in found.categories and category in found.weak


@pytest.mark.parametrize("text", [
    "hva er kontaktforbud og hvordan søker man?",
    "får ikke snakke om det med noen på jobben, det er taushetsplikt",
    "kan du ringe meg i morgen formiddag?",
    "ungene gjemmer seg bak sofaen når vi leker gjemsel",
    "jeg tar piller mot migrene hver dag",
    "mange tablett er det i en eske paracet?",
    "hvem kan fortelle meg om femåringen kan begynne på skolen?",
    "hvordan kommer man seg til flyplassen herfra uten bil?",
])
def test_set_l_kinds_leave_calm(text: str) -> None:
    assert detect(text).categories == ()


@pytest.mark.parametrize("text", [
    "naboen sier at hun har en femåring som får juling hjemme",
    "jenta i klassen, hun er 8 år, har blått øye igjen og vil ikke si noe",
])
def test_a_child_named_by_age_with_harm_is_a_child_at_risk(text: str) -> None:
    assert "child" in detect(text).categories


def test_a_learners_infinitive_keeps_the_past_of_the_message() -> None:
    assert detect("for tre år siden mann min slå meg, nå jeg bor trygt alene").categories == ()
    assert "acute" in detect("mann min slå meg nå, jeg blør").categories


@pytest.mark.parametrize("text", [
    "pendlinga dreper meg, to timer hver vei",
    "migrenen min dreper meg i dag",
    "vaskemaskina prøver å drepe meg, den rister som en helikopter",
    "tentamenene tar livet av meg denne uka",
])
def test_a_thing_that_kills_me_is_a_figure_of_speech(text: str) -> None:
    assert detect(text).categories == ()


@pytest.mark.parametrize("text", [
    "samboeren prøver å drepe meg",
    "stebroren min dreper meg hvis jeg sier noe",
    "den jævelen kommer til å drepe meg",
    "hen dreper meg",
    "han sier jeg burde drepe meg selv",
    "jeg vil bare at han dreper meg så det er over",
])
def test_a_person_who_kills_me_is_no_figure_of_speech(text: str) -> None:
    assert detect(text).categories != ()


@pytest.mark.parametrize("text", [
    "how can i get out, my boss has our passports and locks the door",
    "how do we escape, the man keeps our papers and we work for no pay",
])
def test_how_do_i_escape_is_a_plea_not_a_general_question(text: str) -> None:
    assert detect(text).categories == ("trafficking",)


@pytest.mark.parametrize("text", [
    "how do i get a restraining order",
    "how can i get out of my phone contract",
])
def test_how_do_i_about_a_calm_topic_stays_calm(text: str) -> None:
    assert detect(text).categories == ()


@pytest.mark.parametrize("text", [
    "sitter med pillene foran meg og har skrevet et brev til mamma",
    "the razor is next to me and i am done",
])
def test_the_means_laid_out_at_hand_is_a_method_under_way(text: str) -> None:
    # With suicide found (by either layer), acute danger joins.
    assert joins_suicide_as_acute(detect(text))


def joins_suicide_as_acute(found: Crisis) -> bool:
    """Acute danger implied by suicide, or found with it (when the warning signs find suicide)."""
    return (("acute", ("suicide",)) in found.implied
            or {"acute", "suicide"} <= set(found.categories))


def test_the_means_laid_out_alone_raises_nothing() -> None:
    found = detect("pillene ligger fremme på kjøkkenbenken, husk å ta dem etter maten")
    assert found.categories == ()


@pytest.mark.parametrize("text", [
    "storesøster slår meg alltid i yatzy, er det juks",
    "bestefar slo oss i bordtennis i hele sommer",
])
def test_beating_someone_at_a_game_is_a_figure_of_speech(text: str) -> None:
    assert detect(text).categories == ()


def test_a_game_named_as_the_occasion_of_real_blows_still_counts() -> None:
    assert "child" in detect("pappa slår meg i hodet når jeg taper i fifa, jeg er 11").categories


def test_hide_and_seek_is_play() -> None:
    assert detect("vi leker gjemsel og jeg gjemmer meg under senga").unreal


@pytest.mark.parametrize("text", [
    "samboeren holdt meg rundt halsen forrige fredag, kan det være farlig i ettertid?",
    "ho kvelte meg nesten for tre dagar sidan, må eg til legen",
    "my boyfriend choked me last weekend, should i see a doctor?",
])
def test_strangling_dated_in_the_past_is_set_aside_for_the_maybe_tier(text: str) -> None:
    found = detect(text)
    assert "acute" not in found.categories
    assert "acute" in found.framed and "acute" in found.calm  # the safety line asks, no crisis


@pytest.mark.parametrize("text", [
    "han holdt meg rundt halsen",  # no date: as it was
    "ho kvelte meg i kveld",  # tonight is now
    "han tok strupetak på meg i går og sa at neste gang slutter han ikke",  # a threat of again
    "han tok kvelertak i går og nå får jeg ikke puste",  # breathing now
])
def test_strangling_without_a_date_or_with_danger_now_is_acute(text: str) -> None:
    assert "acute" in detect(text).categories


def test_a_child_strangled_yesterday_is_still_a_child_at_risk() -> None:
    assert "child" in detect("stefaren min tok meg i kvelertak i går, jeg er 13").categories


def test_a_partner_forcing_sex_is_not_trafficking() -> None:
    partner = detect("my girlfriend forces me to have sex when she is drunk")
    assert "trafficking" not in partner.categories
    customers = detect("they force me to have sex with customers every night")
    assert "trafficking" in customers.categories


def test_a_question_that_reports_a_recent_event_is_marked_recent() -> None:
    # (bot/components.py keeps the maybe tier for it even when the NLU knows the question.)
    assert detect("er det vanlig at søsteren ens lugger til man gråter? skjedde igjen i går").recent
    assert not detect("hva er kvelertak og hvorfor er det farlig?").recent


@pytest.mark.parametrize("text", ["eleven min (14) sier at faren slår henne nå",
                                  "hun (9) er innelåst av stefaren"])
def test_an_age_in_brackets_names_a_child(text: str) -> None:
    assert "child" in detect(text).categories


def test_an_adult_age_in_brackets_names_no_child() -> None:
    assert "child" not in detect("kjæresten min (19) slår meg nå").categories


@pytest.mark.parametrize("text", [
    "Venninna mi sendte 'hjelp han er her' for ti minutter siden og svarer ikke nå",
    "søstera mi skrev at han slår henne og hun svarer ikke lenger på telefonen",
])
def test_someone_not_answering_is_no_negated_danger(text: str) -> None:
    # "svarer ikke nå" is the danger itself, not "ikke (i fare) nå".
    assert not detect(text).negated


def test_danger_that_is_over_now_is_still_negated() -> None:
    assert detect("han truer med å drepe meg, men ikke nå lenger").negated


@pytest.mark.parametrize("text", [
    # From set N: a threat to share a video after a break-up, at 15.
    "typen min sier han skal legge ut videoen av oss hvis jeg slår opp. jeg er 15. vi er ikke "
    "sammen lenger men han truer hver dag",
    "we are no longer together but he says he will kill me, i'm 15",
])
def test_a_break_up_is_no_negated_danger(text: str) -> None:
    found = detect(text)
    assert "child" in found.categories and not found.negated


@pytest.mark.parametrize("text", [
    "eksen følger etter meg overalt etter at vi gikk fra hverandre",
    "eksen følger etter meg hjem fra skolen typ",
])
def test_stalking_described_as_a_pattern_is_not_danger_now(text: str) -> None:
    assert "acute" not in detect(text).categories


@pytest.mark.parametrize("text", ["han følger etter meg",
                                  "han følger etter meg hjem fra skolen nå"])
def test_being_followed_now_is_acute(text: str) -> None:
    assert "acute" in detect(text).categories


@pytest.mark.parametrize("text", [
    "eg får ikkje gå ut utan å seie kor eg skal",
    "Venninna mi får ikke gå ut uten at fetteren følger henne. Hva kalles dette?",
])
def test_not_allowed_out_alone_is_control_not_being_locked_in(text: str) -> None:
    assert "acute" not in detect(text).categories


def test_locked_in_still_is_acute() -> None:
    assert "acute" in detect("jeg får ikke gå ut, han har tatt nøkkelen").categories


@pytest.mark.parametrize("text", [
    "ka kan skje i kroppen etter et kvelertak",
    "who helps victims of human trafficking in Norway?",
])
def test_general_questions_in_dialect_and_english_are_set_aside(text: str) -> None:
    found = detect(text)
    assert not found.categories and found.framed  # the maybe tier at most


@pytest.mark.parametrize("text", [
    "barna mine hører når vi krangler og han slår, hva gjør det med dem?",
    "Mitt barnebarn har sett sin far slå moren. Hvordan kan dette påvirke en liten gutt?",
    "I barnehagen har vi en gutt som leker at pappa slår mamma. Hvordan bør vi forstå det?",
])
def test_how_witnessed_violence_affects_a_child_is_a_question(text: str) -> None:
    found = detect(text)
    assert "child" not in found.categories and "child" in found.framed


@pytest.mark.parametrize("text", [
    "han slår barna, hva gjør det med dem?",  # harm to the child itself, not witnessed
    "jeg er 12 og ser pappa slå mamma, blir jeg skada av det?",  # a young writer
    "pappa slår mamma nå og jeg ser alt, hva gjør det med meg",  # now
])
def test_a_child_hurt_or_writing_or_danger_now_stays_a_child_at_risk(text: str) -> None:
    assert "child" in detect(text).categories


def test_now_on_what_the_writer_does_not_want_to_do_is_no_present_cue() -> None:
    # (spaCy's lemmas: "skadene" is "skade", which with "nå" made a [violence, now] cue pair)
    lemmas = ["bør", "jeg", "ta", "bilde", "av", "skade", "selv", "om", "jeg", "ikke", "vil",
              "anmelde", "nå"]
    text = "Bør jeg ta bilder av skadene selv om jeg ikke vil anmelde nå?"
    assert not detect(text, lemmas).categories


@pytest.mark.parametrize("text", [
    "foreldremøtet i kveld tar livet av meg lol",  # a time phrase between the thing and the verb
    "fikk kvelertak på bjj-trening og tappa ut, det er sånn det skal være ikke sant?",
])
def test_figures_of_speech_and_grappling_sport_raise_no_crisis_alone(text: str) -> None:
    found = detect(text)
    assert not found.categories or found.unreal  # unreal: only the classifier's high score raises


@pytest.mark.parametrize("text", [
    "Han held mæ fast i strupen før han gjekk ut. E får dårleg luft enno og det piper",
    "har kutta meg på armen igjen etter krangelen. det slutte ikkje å blø",
])
def test_breathing_trouble_or_bleeding_that_will_not_stop_is_acute(text: str) -> None:
    assert "acute" in detect(text).categories


def test_someone_waiting_outside_now_is_acute_in_english() -> None:
    text = "3 man from agency wait outside brakke now, they say we pay tonight or they break legs"
    assert "acute" in detect(text).categories


def test_a_way_to_die_named_for_tonight_makes_a_suicide_message_acute() -> None:
    found = detect("tenker å gå ut i sjøen i natt, orker ikke mer")
    assert {"acute", "suicide"} <= set(found.categories)
    assert not detect("jeg går ut i kveld med venner").implied


@pytest.mark.parametrize("text", [
    "jeg slo tommelen med hammer i dag, faen det gjør vondt men går bra",
    "Sauen sparka mæ i leggen i dag, e blir blå men det går fint",
])
def test_the_writer_saying_it_is_fine_lowers_the_urgency(text: str) -> None:
    assert detect(text).negated


def test_hit_now_but_fine_keeps_the_danger() -> None:
    found = detect("han slo meg i ansiktet nå men det går bra")
    assert "acute" in found.categories and not found.negated


def test_an_adult_age_now_in_english_is_no_present_cue() -> None:
    text = "my father hit us when i was small. i am 38 now. can i talk with somebody about this?"
    assert "acute" not in detect(text).categories


def test_violence_described_without_a_present_cue_is_marked_described() -> None:
    # (bot/components.py gives it the maybe tier when the NLU knows the question well.)
    assert detect("kjæresten min slår meg men jeg er gutt, teller det liksom").described == (
        "acute",)
    assert not detect("kjæresten min slår meg nå").described
    assert not detect("han har truet med å drepe meg").described  # not only descriptive


# Eleventh session, from set T's misses (the wording here is not T's): each found by a rule that
# needs no classifier.
@pytest.mark.parametrize(("text", "category"), [
    ("er gravid i uke 30 og kjenner ikke spark fra babyen etter at han dyttet meg", "acute"),
    ("babyen beveger seg ikke etter at han sparket meg i magen", "acute"),
    ("mamma låste meg ute og det er minus ti grader, hvor skal jeg gå", "acute"),
    ("stefar har låst døra og jeg fryser på trappa", "acute"),
    ("det er en fremmed mann i oppgangen med øks", "acute"),
    ("han sa at hvis jeg går skal ingen få meg", "acute"),
    ("jeg står på Sandesundsbrua og ser ned i vannet", "suicide"),
    ("står oppe på Askøybroen nå og ser ned", "suicide"),
    ("my friend is hanging from the ceiling in the garage", "suicide"),
    ("samboeren min har en 5åring som bor her, han slo ham i hodet i kveld", "child"),
    ("kan barnevernet komme og hente meg nå? tør ikke være hjemme", "child"),
    ("i am slave here, nobody pays me", "trafficking"),
    ("начальник забрав мій паспорт і не відпускає мене", "trafficking"),
    ("har så lyst til å knuse ting, eller noen", "harm_others"),
])
def test_set_t_crises_are_found_by_the_rules(text: str, category: str) -> None:
    found = detect(text)
    assert category in found.categories and category not in found.weak, found


def test_someone_hanging_now_is_acute_too() -> None:
    assert {"acute", "suicide"} <= set(detect("he is hanging in the barn, please").categories)


@pytest.mark.parametrize("text", [
    "står på brua og ser ned på båtene",
    "we will watch how 10-åringer react to the escape room",
    "escape room for bursdagen, temaet er innesperret, passer det for 10-åringer",
    "vi har vært skilt i fire år nå og barna har det bra. kan jeg søke erstatning?",
    "har gått i terapi i to år nå, hva er neste steg",
    "sjefen dreper meg hvis jeg kommer for sent, ha ha",
    "KBK tapte igjen, æ vil dø 💀",
])
def test_set_t_figures_and_calm_lines_raise_no_crisis_category(text: str) -> None:
    found = detect(text)
    assert not set(found.categories) - set(found.weak) or found.unreal, found


def test_a_duration_before_now_is_no_present_cue_but_danger_now_still_is() -> None:
    text = "æ skada mæ sjøl da æ va 17 men har vært fri fra det i fem år no"
    assert "suicide" not in detect(text).categories
    assert "acute" in detect("han har slått meg i fem år nå og står utenfor døra").categories


def test_teaching_material_and_last_year_raise_nothing() -> None:
    # From set T's false alarms: a school as an audience, last year.
    assert detect("Har dere et undervisningsopplegg om vold for ungdomsskolen?").categories == ()
    assert detect("she was hit by her ex last year, now she is safe, who can she talk to?"
                  ).categories == ()
    # An accident is no veto: it is the adults' usual cover story (the classifier decides).
    cover = "stefar sier at hun falt av sykkelen, men jeg så at han slo henne"
    assert "child" not in detect(cover).calm
    # "In my class" is no school work: a pupil with bruises is a child at risk (set G).
    assert not detect("the girl in my class has bruises on her neck again").unreal


def test_closing_a_door_against_the_cold_is_no_danger() -> None:
    assert "acute" not in detect("jeg stengte døra fordi det var så kaldt i gangen").categories


# From set U (twelfth session): danger in Nynorsk and learner English, passports kept by whoever
# holds the writer, the means laid out.
@pytest.mark.parametrize(("text", "category"), [
    ("eg vart kvelt for ti minutt sidan og det susar i øyro", "acute"),
    ("he have my pass and i cannot go anywhere", "trafficking"),
    ("han tok telefon min og pass, jeg skriver fra nabo", "trafficking"),
    ("i am hiding now, my passport is in his office", "trafficking"),
    ("eg har skore meg i kveld og ingen veit det", "suicide"),
])
def test_set_u_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "eg har lagt fram tablettane på bordet og tel dei",
    "i take many sleeping pill from his cabinet, i want sleep forever",
])
def test_the_means_laid_out_or_taken_make_suicide_acute(text: str) -> None:
    assert ("acute", ("suicide",)) in detect(text).implied


def test_a_workers_danger_leans_to_trafficking_but_a_partners_threat_does_not() -> None:
    worker = detect("the foreman has knife and say he cut me if i try to leave tonight")
    assert ("trafficking", ("acute", "suicide")) in worker.leaning
    partner = detect("he is outside the door now, he say he kill me if i leave")
    assert "trafficking" not in {c for c, _ in partner.leaning}


@pytest.mark.parametrize("text", [
    "drepte den eksamenen i dag!! 6er i matte",
    "har en hodepine som dreper meg, noen tips",
    "jeg ble nesten kvalt av en pastill i dag, hoste som en gal",
    "kill me now, dette møtet har vart i tre timer",
    "i want to die, this hangover is the worst",
    "kuttet meg på et papirark, hvorfor gjør det så vondt",
    "mamma kommer til å drepe meg når hun ser karakteren i norsk",
    "sjefen tvinger meg til å jobbe overtid igjen, hater mandager",
    "må jobbe hele helga gratis for å hjelpe pappa med flyttinga ugh",
])
def test_set_u_figures_of_speech_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_fire_drill_is_no_danger_but_a_cut_arm_is() -> None:
    assert detect("brannøvelse i dag, vi ble sperret inne i møterommet som en del av øvelsen"
                  ).unreal
    assert "suicide" in detect("kutta meg på armen igjen").categories


def test_a_weapon_taken_along_is_danger_but_not_on_a_fishing_trip() -> None:
    assert "acute" in detect("han har tatt med seg haglen inn på soverommet").categories
    assert "acute" in detect("han tok med seg kniven på fisketur").weak  # the classifier decides


def test_someone_who_just_tried_to_hang_themselves_is_a_method_under_way() -> None:
    text = "Vi har nettopp funnet en elev som har forsøkt å henge seg i garderoben"
    assert ("acute", ("suicide",)) in detect(text).implied


# From set V (twelfth session): a passport and a boss in the writer's own language, the next
# buyer, a threat to family abroad, "den siste natta mi", a head slammed into a wall.
@pytest.mark.parametrize(("text", "category"), [
    ("szef zabrał mi paszport, pracuje bez wypłaty", "trafficking"),
    ("toi lam tiem nail, chu giu ho chieu, khong tra luong", "trafficking"),
    ("i have to go to the next man now, he waits in the car", "trafficking"),
    ("mannen min sa i kveld at dette blir den siste natta mi", "acute"),
    ("han slo hodet mitt i veggen", "acute"),
    ("ho står foran døra med kjøkkenkniven", "acute"),
])
def test_set_v_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


def test_a_threat_to_family_abroad_and_giving_things_away_need_the_classifier() -> None:
    threat = detect("he threatens to hurt my son in Lithuania if I leave him and the job")
    assert "trafficking" in threat.weak
    assert "suicide" in detect("she can have my wedding dress and my books").weak


@pytest.mark.parametrize("text", [
    "hun kvelte meg nesten av latter med den vitsen",
    "kjedelig forelesning, vil dø av kjedsomhet",
    "han dreper meg med de dårlige vitsene sine",
    "skal skyte bilder i bryllupet til søstra mi på lørdag",
    "sønnen min på 7 slo hodet i klatrestativet i dag, han er fin nå",
    "passet mitt ble tatt av passkontoret fordi det var ødelagt",
    "jobber gratis i helgene som frivillig på fotballklubben",
    "får ikke lønn før den 20. denne måneden pga nytt system",
])
def test_set_v_figures_and_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_question_about_what_was_done_to_the_writer_is_personal() -> None:
    assert detect("e det farlig at æ blei kvelt? han holdt rundt halsen").personal
    assert not detect("hva er kvelning, og er det farlig?").personal


def test_a_category_joined_through_a_leaning_cue_does_not_lead(monkeypatch: Any) -> None:
    """A worker's setting in a suicide message adds the trafficking line; the reply still leads
    with suicide, even when DIET ranks its trafficking intent first."""
    from bot import crisis_layer

    found = Crisis(("suicide",), False, "en", leaning=(("trafficking", ("acute", "suicide")),))
    monkeypatch.setattr(crisis_layer.crisis, "detect", lambda text, lemmas=None: found)
    ranked = [{"name": "crisis_trafficking", "confidence": 0.6},
              {"name": "crisis_suicide", "confidence": 0.3}]
    inputs = crisis_layer.Inputs("...", None, {"suicide": 0.9, "trafficking": 0.35}, ranked[0],
                                 ranked)
    outcome = crisis_layer.judge(inputs, crisis_layer.Settings.from_config({}))
    assert outcome.info is not None and outcome.intent is not None
    assert outcome.info["categories"] == ["suicide", "trafficking"]
    assert outcome.intent["name"] == "crisis_suicide"


def test_a_weapon_brought_in_and_all_pills_taken_minutes_ago_are_danger() -> None:
    assert "acute" in detect("guten kom med ein kniv og vil ha pensjonen min").categories
    assert ("acute", ("suicide",)) in detect("took all of them like 20 min ago").implied
    assert detect("han kom hjem med en kake").categories == ()


@pytest.mark.parametrize(("text", "category"), [
    ("fikk sms fra han nye til exen: du e død før morran", "acute"),
    ("hva gjør man når mannen sier man ikke skal få se morgendagen", "acute"),
    ("vanskelig å puste, han holdt hals min lenge", "acute"),
    ("i kveld holdt pappa jonas under vannet i badekaret lenge", "acute"),
    ("kan politiet komme uten blålys? hvis han ser dem blir det verre", "acute"),
    ("brother in law coming with his friends tonight to punish us", "acute"),
    ("gir bort bunaden min til barnebarnet, æ treng den ikkje der æ ska", "suicide"),
    ("wrote a note and put it under the keyboard. roomie finds it monday", "suicide"),
    ("deleted all my socials today. cleaner that way when im gone", "suicide"),
    ("przepraszam, mama nie może więcej", "suicide"),
    ("coach here, 13yo player turns up starving and bruised every week", "child"),
    ("is it normal that agent take all salary and give me 500 kr per week?", "trafficking"),
    ("he say i am illegal now because visa finish, but he have all my papers", "trafficking"),
    ("min kontrakt sier 180 kr time. jeg får ingenting. kontrakten har han også", "trafficking"),
    ("sorry my norsk bad. jeg er fange på jobb", "trafficking"),
    ("jobb 6 morgen til 1 natt. ingen fri på 11 måned", "trafficking"),
    ("han sier gjeld er 40 000 nå. i januar det var 25 000", "trafficking"),
    ("ka e det når kjæresten din selger deg?", "trafficking"),
    ("eg vil ut, men han seier at den som sluttar blir stukke", "trafficking"),
    ("fekk juling i kveld fordi eg var 2000 kort", "trafficking"),
    ("моля помогнете. he took my лична карта", "trafficking"),
])
def test_set_w_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


def test_set_w_weak_cues_need_the_classifier() -> None:
    assert "suicide" in detect("har skrudd av telefonen så dattra ikkje kan stoppe mæ").weak
    assert "suicide" in detect("det e mørketid og æ orke ikkje en vinter til").weak
    assert "trafficking" in detect("he take my wage again today, all of it").weak


@pytest.mark.parametrize("text", [
    "du er død hvis du ikke kommer på festen i morgen lol",
    "my boss pay salary 5 days late this month, is this allowed?",
    "sjefen tar alltid de beste vaktene selv",
    "onkel tar pengene til mormor",
    "skal rydde kjøkkenet før jeg går.",
    "politiet kom uten blålys til skolen for å snakke om trafikk",
    "ingen fri på 2 uker nå pga eksamen, sliten",
    "gjelda er 40 000 nå, var 25 000 i januar, studielånet vokser",
    "når jeg er død vil jeg at asken strøs i fjellet",
    "føler meg helt fanget i jobben for tida, så mye overtid",
    "when i'm gone for the weekend the cat needs feeding",
    "vi holdt pusten under vann i svømmetimen",
])
def test_set_w_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_gun_taken_out_by_him_is_not_read_as_the_writers_means() -> None:
    found = detect("han har tatt fram geværet og sitter i stua")
    assert "acute" in found.categories and "suicide" not in found.categories + found.weak


@pytest.mark.parametrize(("text", "category"), [
    ("e det nån som kan kom hit uten at han skjønne at æ har skrevet te dokker", "acute"),
    ("he kicked me when i was on the floor. my ribs hurt alot when i breathe", "acute"),
    ("det er så kaldt her nede. pappa sa jeg skulle sitte her til i morra", "acute"),
    ("tenkte å gå ut på elgeseter bru i natt", "suicide"),
    ("e så trøtt av å lev", "suicide"),
    ("no one hurts me. i hurt me", "suicide"),
    ("kan jeg gå politi uten pass? onkel har pass", "trafficking"),
    ("er det menneskehandel når det var eg sjølv som lånte pengane?", "trafficking"),
    ("no skal eg oppbevare ein pistol på hybelen for han", "trafficking"),
    ("Eleven har fortalt at hun ikke har fått middag på flere dager", "child"),
    ("familien er reist til hjemlandet for at eleven skal giftes bort", "child"),
    ("han sier han dreper meg og tar barn til Polen", "child"),
    ("datter min prøvde stoppe han, han dyttet henne i vegg", "child"),
])
def test_set_w_second_round_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


def test_set_w_methods_under_way_make_a_suicide_message_acute() -> None:
    for text in ("just swallowed a handful with vodka", "trur eg tek alle i natt",
                 "kutta mæ med barberblad i kveld. det e dypere enn før",
                 "tablettan ligg på nattbordet. alle sammen"):
        assert joins_suicide_as_acute(detect(text)), text


def test_set_w_shelter_tonight_and_a_door_locked_from_outside_need_the_classifier() -> None:
    assert "acute" in detect("hvor er krisesenter? kan jeg komme nå i natt med to barn").weak
    assert "acute" in detect("uncle lock storeroom from outside in night").weak


@pytest.mark.parametrize("text", [
    "kan jeg komme nå i kveld og hente nøkkelen?",
    "har kjøpt tau til båten",
    "jeg har vondt i ribbeina når jeg puster etter treninga",
    "i hurt my knee playing football",
    "sliten av å leve på studielån",
    "kan han ta barna til Polen i sommerferien uten mitt samtykke?",
    "datter min på 30 skal gifte seg i sommer",
    "eleven har ikke spist matpakka i dag, glemte den hjemme",
    "i'm so done with this semester, i want to disappear to a hytte with no wifi",
])
def test_set_w_second_round_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


@pytest.mark.parametrize("text", [
    "lillebror og jeg lekte politi og tyv og han låste meg inne i skapet for moro skyld",
    "vi slo dem 7-0 i dag, for en kamp",
    "nyhetene i dag om mann som drepte kona si, jeg ble så lei meg",
    "Under førstehjelpskurset øvde elevene på hva man gjør ved kvelning",
])
def test_set_w_games_news_and_first_aid_are_unreal(text: str) -> None:
    assert detect(text).unreal, detect(text)


def test_the_conversation_adds_the_child_line_only_after_a_young_writers_age() -> None:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlg import with_conversation

    def tracker(*texts: str) -> DialogueStateTracker:
        return DialogueStateTracker.from_events("x", [UserUttered(t) for t in texts])

    acute = {"categories": ["acute"], "negated": False}
    assert with_conversation(acute, tracker("æ e 13", "han slår nå"))["categories"] == [
        "acute", "child"]
    assert with_conversation(acute, tracker("hei", "han slår nå")) == acute
    assert with_conversation(acute, tracker("æ e 13", "jeg er 40 nå", "han slår nå")) == acute
    # The age must come before: the latest message is the detector's own business.
    assert with_conversation(acute, tracker("hei", "æ e 13 og han slår nå")) == acute
    assert with_conversation({"categories": []}, tracker("æ e 13", "takk")) == {"categories": []}


def test_the_maybe_tier_also_adds_the_child_line_after_a_young_writers_age() -> None:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlg import compose, with_conversation

    events = [UserUttered(t) for t in ("jeg går i 8. klasse", "det skjedde igjen i natt")]
    found = with_conversation({"categories": [], "maybe": ["acute"]},
                              DialogueStateTracker.from_events("x", events))
    assert found["maybe"] == ["acute", "child"]
    text, _ = compose("utter_default", "", found, False)
    assert "Alarmtelefonen" in text


def test_exploitation_described_earlier_adds_rosas_line_to_a_later_crisis() -> None:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlg import with_conversation

    exploited = UserUttered("sjefen har passet mitt", parse_data={
        "crisis": {"categories": ["trafficking"], "negated": False}})
    later = [exploited, UserUttered("jeg vil ikke leve mer")]
    suicide = {"categories": ["suicide"], "negated": False}
    found = with_conversation(suicide, DialogueStateTracker.from_events("x", later))
    assert found["categories"] == ["suicide", "trafficking"]
    calm = [UserUttered("hva er menneskehandel?"), UserUttered("jeg vil ikke leve mer")]
    assert with_conversation(suicide, DialogueStateTracker.from_events("x", calm)) == suicide


@pytest.mark.parametrize("text, category", [
    ("hun hadde hendene rundt halsen min for en time siden og går fortsatt rundt her", "acute"),
    ("he squeezed my neck earlier and now i can't swallow", "acute"),
    ("kona kasta kokande vatn på meg i kveld", "acute"),
    ("he threw boiling water on me an hour ago", "acute"),
    ("løkka henge frå bjelken i garasjen", "suicide"),
    ("løkka e oppe på loftet no", "suicide"),
    ("han selger meg til menn for å betale gjelda si", "trafficking"),
    ("she sells me to customers every night", "trafficking"),
    ("er 11 og har ikke hatt mat på tre dager, mamma er borte", "child"),
    ("stefar held på å banke mæ, æ e 15", "acute"),
])
def test_set_y_and_z_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "hadde ingen mat på to dager på fjellturen, var deilig å komme hjem",
    "ho kasta kokande vatn på pastaen og gjekk",
    "tauet e oppe på flaggstanga igjen",
    "skal på løkka og henge med gutta i kveld",
    "han selger meg inn som den beste kandidaten til jobben",
])
def test_set_y_and_z_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_hit_and_unable_to_get_away_is_acute_but_work_is_not() -> None:
    assert "acute" in detect("han slår meg og eg kan ikkje komme meg vekk").categories
    assert detect("jeg kan ikke komme meg vekk fra jobben i morgen").categories == ()


@pytest.mark.parametrize("text, category", [
    ("sambo holdt meg fast i halsen i kveld til jeg nesten besvimte", "acute"),
    ("han strypte mig ikväll och jag vet inte vad jag ska göra", "acute"),
    ("han höll för munnen och näsan på mig nyss", "acute"),
    ("hun holdt for munnen og nesen min så jeg ikke fikk skrike", "acute"),
    ("mannen min tar barna til pakistan i morgen, han har kjøpt billetter", "acute"),
    ("jenta på 9 er alene hjemme, mora har vært borte i tre døgn", "acute"),
    ("nie chce juz zyc, nie mam sily", "suicide"),
    ("jag vill inte leva längre", "suicide"),
    ("har spart på sovetablettene i flere måneder", "suicide"),
    ("står på toppen av parkeringshuset og ser ned", "suicide"),
    ("i'm going to take all the pills in the bathroom tonight", "suicide"),
    ("the man who controls the girls took my phone", "trafficking"),
    ("vi er låst inne i brakka til firmaet om natta", "trafficking"),
    ("han brakk fingeren min i sta", "acute"),
])
def test_set_aa_and_ab_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "vi tar barna til tyrkia i sommerferien, har kjøpt billetter",
    "han tar barna til trening i morgen",
    "er kvelning farlig selv om man ikke får merker?",
    "har samlet på frimerker i flere år",
    "står på toppen av fjellet og ser utover, nydelig",
    "jeg drepte helt den matteprøven idag",
    "jag vill inte jobba på lördag",
    "jeg brakk armen på ski i går",
])
def test_set_aa_and_ab_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_swedish_keyboard_and_run_together_time_words_read_as_norwegian() -> None:
    from bot.crisis import normalise

    assert normalise("Han slo meg IKVELD, jag är rädd") == "han slo meg i kveld, jeg ær rædd"
    assert normalise("kommer hjem idag eller imorgen") == "kommer hjem i dag eller i morgen"
    assert "acute" in detect("han slår mig nu, jag är rädd").categories
    assert detect("en mardröm där någon ströp mig").unreal


@pytest.mark.parametrize("text", [
    "jeg kunne drept for en kebab nå",
    "drepte meg selv av latter i timen",
    "my dad is literally going to kill me, i crashed his car",
    "slo rekorden på 10 km i dag",
    "vi slo dem ut i andre runde av cupen",
    "fikk juling i bortekampen, 5-0",
    "kvelertak er det beste bandet i verden",
])
def test_set_ab_figures_of_speech_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_figure_of_speech_does_not_hide_real_danger() -> None:
    assert "acute" in detect("han kunne drept meg i kveld, han tok kvelertak på meg").categories
    assert detect("han er på vei hit nå, vi skal på kino 😊").unreal
    assert detect("æ slo han ut på boksetreninga").unreal


@pytest.mark.parametrize("text, category", [
    ("han kjører etter meg nå på motorveien, jeg er så redd", "acute"),
    ("hun har prøvd å kjøre meg av veien to ganger i kveld", "acute"),
    ("the boss showed us a gun when we asked for our pay", "acute"),
    ("sjefen viste oss en pistol da vi spurte om lønn", "acute"),
    ("de har kjøpt flybillett til meg, jeg skal giftes bort i morgen", "acute"),
    ("they are taking me to the airport tomorrow to marry a man i never met", "acute"),
    ("he hit me so hard i can't see on my left eye and he is coming back", "acute"),
    ("no passport, no money, better i am dead", "suicide"),
    ("datteren min på 15 har en kjæreste på 25 som presser henne til sex", "child"),
    ("en gutt på 6 i barnehagen snakker om seksuelle handlinger", "child"),
])
def test_set_ac_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "søstera mi skal gifte seg i morgen, jeg gleder meg",
    "datteren min på 15 har fått sin første kjæreste",
    "i work in a shop, i get paid and have my passport, can i change jobs?",
    "pappa tok passet mitt for å fornye det på politistasjonen",
    "faren min slår alle i sjakk",
    "han drepte meg med blikket da jeg kom for sent",
    "var helt død etter jobb i går",
    "bestemor ble slått av faren sin da hun var barn, nå har hun det bra",
    "føler meg trist, men har ingen tanker om å skade meg",
])
def test_set_ac_everyday_lines_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


@pytest.mark.parametrize("text", [
    "har skrevet et dikt om en som vil dø til norsktimen",
    "spiller dnd i kveld og rollefiguren min skal drepe kongen",
    "reading a book about human trafficking for my english class",
])
def test_set_ac_school_work_and_games_are_unreal(text: str) -> None:
    assert detect(text).unreal, detect(text)


@pytest.mark.parametrize("text, category", [
    ("han slo meg i natt og nå vil jeg bare dø", "suicide"),
    ("i want die, nobody help me", "suicide"),
    ("i slit my wrists and there is blood on the floor", "suicide"),
    ("i slit my wrists and there is blood on the floor", "acute"),
    ("my sister says she will jump from the bridge tonight", "suicide"),
    ("sjefen låste porten i kveld og vi kan ikke gå ut", "acute"),
    ("byrået tar alt vi tjener og vi skylder dem for reisen", "trafficking"),
])
def test_set_ad_crises_are_found_by_the_rules(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "naturfagprøven drepte meg i dag",
    "showet i kveld, vi skal drepe det 🔥",
    "ble knust i badminton av lillebroren min",
    "pappa dreper meg når han ser karakteren i matte",
    "du dreper meg med de vitsene dine",
    "hvordan dreper jeg brunsneglene i hagen",
    "katta mi drepte en mus i dag lol",
])
def test_set_ad_figures_of_speech_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_threat_over_leaving_is_no_figure_of_speech() -> None:
    # The grade and the deadline are the figure; leaving is a threat.
    assert "acute" in detect("han sier han dreper meg hvis jeg går fra ham").categories


@pytest.mark.parametrize("text", [
    "sønnen min sitter med skytespill hele kvelden",
    "har et skoleprosjekt om vold i nære relasjoner",
])
def test_set_ad_games_and_school_projects_are_unreal(text: str) -> None:
    assert detect(text).unreal, detect(text)


def test_pills_named_in_a_compound_are_not_a_game() -> None:
    assert not detect("kan jeg ta sovepillene sammen med alkohol?").unreal


@pytest.mark.parametrize("text", [
    "ingen fare her, lurte bare på åpningstidene",
    "legen endret medisinen og jeg sover bedre nå",
    "she cried at school today but she is fine now",
    "motoren på båten skar seg i går",
])
def test_set_ad_calm_statements_doubt_a_classifier_only_crisis(text: str) -> None:
    found = detect(text)
    assert found.categories == () and set(found.calm) >= {"acute", "suicide"}, found


def test_a_hand_round_the_neck_now_is_acute_and_a_scarf_is_not() -> None:
    assert "acute" in detect("stefar holder mamma rundt halsen, jeg er 10").categories
    assert detect("hun holder skjerfet rundt halsen når det er kaldt").categories == ()


def test_a_parent_who_moved_out_is_not_the_writers_safety() -> None:
    found = detect("jeg er 16 og pappa har slått meg i mange år. han er verre nå som mamma "
                   "har flytta ut")
    assert "child" in found.categories and not found.negated, found


def test_sent_abroad_for_good_to_be_married_is_a_weak_acute_cue() -> None:
    found = detect("de sier jeg blir sendt til pakistan og aldri kommer tilbake hvis jeg ikke "
                   "gifter meg")
    assert found.weak == ("acute",) and found.categories == ("acute",), found
    # Any plan to marry abroad is the forced-marriage answer's, not a crisis of its own.
    assert detect("familien vil sende meg til hjemlandet for å gifte meg").categories == ()


@pytest.mark.parametrize("text", [
    "søstera mi dreper meg hvis hun ser at jeg har lånt kjolen hennes",
    "treneren drepe meg om eg kjem for seint på trening igjen",
    "mamma kommer til å drepe meg når hun ser hvor mye jeg har brukt på klær",
])
def test_a_conditional_threat_alone_is_a_weak_cue(text: str) -> None:
    # Most people mean it as a figure of speech: the classifier decides, the maybe tier below it.
    found = detect(text)
    assert found.categories and set(found.weak) == set(found.categories), found


@pytest.mark.parametrize("text", [
    "han sier han dreper meg hvis jeg går fra ham",
    "jeg er redd pappa dreper meg hvis han finner ut at jeg har kjæreste",
    "han dreper meg hvis han finner meg, jeg gjemmer meg hos en venninne",
    "stefar dreper meg hvis jeg forteller det til noen",
])
def test_a_conditional_threat_that_reads_real_stays_strong(text: str) -> None:
    found = detect(text)
    assert "acute" in found.categories and "acute" not in found.weak, found


@pytest.mark.parametrize("text", [
    "de sender meg til pakistan i morgen for å gifte meg med en jeg ikke kjenner",
    "har billett til kabul i kveld, onkel sier jeg skal gifte meg der",
    "venter på flyet videre, de tar meg til familien om 3 timer for bryllupet",
])
def test_taken_abroad_to_be_married_within_a_day_is_acute(text: str) -> None:
    assert "acute" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "vi reiser til tyrkia i morgen i bryllupet til kusina mi, gleder meg",
    "familien vil sende meg til hjemlandet for å gifte meg",  # no date: the forced-marriage answer
])
def test_a_wedding_trip_without_coercion_or_date_is_no_crisis(text: str) -> None:
    assert "acute" not in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "fikk en diger laks i dag, slo den ihjel med en stein og grilla den",
    "må på trening i kveld og slå på sekken etter denne uka",
])
def test_set_ae_figures_of_speech_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


def test_a_match_score_is_unreal_and_a_beating_counted_in_numbers_is_not() -> None:
    assert detect("så Brann slå dem 3-1 i går, for en kamp").unreal
    found = detect("han slo meg 2-3 ganger nå")
    assert found.categories == ("acute",) and not found.unreal, found


def test_cutting_so_much_that_it_bleeds_is_suicide() -> None:
    assert "suicide" in detect("har skåret meg så mye at det blør gjennom alt").categories


def test_sitting_with_a_gun_in_the_lap_is_a_weak_suicide_cue() -> None:
    found = detect("sitter med geværet til pappa i fanget")
    assert "suicide" in found.weak, found


def test_a_game_cut_as_a_figure_of_speech_still_frames_the_rest() -> None:
    # "slo meg i kortspill" is cut as a figure of speech; the card game still frames "slå".
    found = detect("mannen min slo meg i kortspill i kveld, han er umulig å slå i poker")
    assert found.unreal, found


@pytest.mark.parametrize("text", [
    "har fått ny jobb nå, får lønn hver måned og har passet mitt selv. takk for hjelpen",
    "thanks for the help, my new boss pays me on time now",
    "vi lo av det etterpå, alt gikk bra",
])
def test_a_good_outcome_vetoes_a_claim_of_the_classifier_alone(text: str) -> None:
    # A bare "nå" beside it is no present cue: the classifier alone gets the maybe tier at most.
    found = detect(text)
    assert found.categories == () and "trafficking" in found.calm, found


@pytest.mark.parametrize("text", [
    "takk for svar, men han slår meg nå og jeg er redd",
    "so happy you answered, he has a knife right now",
])
def test_a_good_word_does_not_calm_danger_the_rules_find(text: str) -> None:
    found = detect(text)
    assert "acute" in found.categories and not found.calm, found


def test_being_fond_of_someone_is_no_good_outcome() -> None:
    # "glad i" is love, often for the abuser: a claim of the classifier alone is not vetoed.
    found = detect("jeg er så glad i ham, men jeg vet ikke hvor lenge jeg orker dette")
    assert "suicide" not in found.calm, found


@pytest.mark.parametrize("text", [
    "hvor farlig er det egentlig å bli kvalt, selv om man ikke besvimer?",
    "er det sant at man kan dø flere dager etter kvelertak?",
])
def test_how_serious_or_is_it_true_is_a_general_question(text: str) -> None:
    # Set aside: the maybe tier's safety line, not an emergency reply.
    found = detect(text)
    assert found.categories == () and "acute" in found.framed, found


def test_how_serious_about_tonight_stays_acute() -> None:
    found = detect("hvor farlig er det? han kvelte meg i kveld og jeg får ikke puste")
    assert "acute" in found.categories, found


@pytest.mark.parametrize("text", [
    "sitter ved vannet og vil ikke leve mer",
    "ligger på senga med pillene og vil bare dø",
])
def test_means_at_hand_or_the_waters_edge_makes_a_suicide_message_acute(text: str) -> None:
    found = detect(text)
    assert {"suicide", "acute"} <= set(found.categories), found


def test_the_waters_edge_alone_raises_nothing() -> None:
    assert detect("sitter ved vannet og nyter sola, for en dag").categories == ()


def test_a_self_defence_class_is_unreal() -> None:
    assert detect("på krav maga øver vi på å komme oss løs fra kvelertak").unreal


@pytest.mark.parametrize("text", [
    "trenger forskjellen på selvpåførte kutt og andre skader, til en fagdag på avdelingen",
    "var på kurset om vold i nære relasjoner i dag, han som holdt det hadde blitt slått selv",
])
def test_a_course_or_a_training_day_is_a_general_question(text: str) -> None:
    # No rule raises it, and a claim of the classifier alone is vetoed.
    found = detect(text)
    assert found.categories == () and "suicide" in found.calm, found


def test_an_exam_about_trafficking_is_unreal() -> None:
    assert detect("we have an exam about trafficking next week, what is debt bondage").unreal


# Twenty-first session: rules from set AG's misses and false alarms (paraphrased, not its lines).
@pytest.mark.parametrize("text", [
    "pappa sier vi reiser til somalia på lørdag, det er mitt bryllup og jeg vil ikke",
    "flyet går i overmorgen og de sier jeg skal gifte meg der",
    "er det lov å nekte å reise? billetten er i morgen og jeg skal gifte meg med en fremmed",
])
def test_travel_within_days_to_ones_own_forced_wedding_is_acute(text: str) -> None:
    # Urgent: a question ("er det lov ...?") does not set it aside.
    assert "acute" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "vi reiser til tyrkia på lørdag i bryllupet til kusina mi",
    "vi drar på fredag, bryllupet til søstera mi er i pakistan",
])
def test_travel_to_someone_elses_wedding_is_no_crisis(text: str) -> None:
    assert "acute" not in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "redd. ekse min utafor",
    "han har sagt at han skal hugge hodet av meg",
    "fikk en knyttneve i ansiktet for ti minutter siden",
    "hvor lenge bruker politiet? han står fortsatt på trappa og roper",
    "han slo meg i fjor. no e han utanfor og seie eg må kome ut",
])
def test_set_ag_danger_now_is_acute(text: str) -> None:
    assert "acute" in detect(text).categories, detect(text)


def test_a_blow_years_ago_is_set_aside() -> None:
    found = detect("fikk en knyttneve i ansiktet for to år siden")
    assert found.categories == () and "acute" in found.framed, found


@pytest.mark.parametrize("text", [
    "hun er bare 4 og han slår henne",
    "stefar tok broren min på 8 i håret og dro ham ut av rommet",
    "en jente på 3 i barnehagen kommer stadig med nye blåmerker",
])
def test_set_ag_a_child_hurt_is_a_child_at_risk(text: str) -> None:
    assert "child" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "sitter på badet nå med barberblad",
    "står med kniven i hånda på badet og tør ikke",
    "i'm not safe with myself right now",
    "føler meg ikke trygg på meg selv i natt",
])
def test_set_ag_a_blade_in_the_bathroom_or_unsafe_with_oneself_is_suicide(text: str) -> None:
    assert "suicide" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "må gå ut før jeg slår henne",
    "hjelp meg å roe meg ned før jeg gjør noe dumt mot kona",
    "jeg kommer til å eksplodere på ham snart",
    "jeg står ved senga med knyttneven knyttet",
    "kjæresten min er redd meg, og jeg skjønner det",
    "kjenner sinnet som aldri før, ho gjemmer seg fordi ho e redd mæ",  # "som aldri før": no past
])
def test_set_ag_a_wish_to_hurt_someone_now_is_harm_to_others(text: str) -> None:
    assert "harm_others" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "slukker alltid før jeg slår av lyset",
    "kona er redd for meg når jeg kjører bil om natta",
])
def test_set_ag_everyday_words_are_no_harm_to_others(text: str) -> None:
    assert "harm_others" not in detect(text).categories, detect(text)


def test_the_boss_having_the_id_is_trafficking() -> None:
    assert "trafficking" in detect("cannot show id to police, my boss keep it").categories


def test_worse_than_before_is_no_past() -> None:
    assert "acute" in detect("det er verre enn før. han kaster ting").categories


def test_it_is_over_now_is_no_present_cue() -> None:
    found = detect("han slo meg i fem år. det er over nå")
    assert found.categories == (), found


@pytest.mark.parametrize("text", [
    "treneren kommer til å myrde oss når han ser resultatet",
    "pappa kommer til å henge meg når han ser regningen",
])
def test_someone_elses_threat_over_being_found_out_is_a_weak_cue(text: str) -> None:
    found = detect(text)
    assert found.categories and set(found.weak) == set(found.categories), found


def test_ones_own_hanging_stays_strong() -> None:
    found = detect("jeg kommer til å henge meg når alle har lagt seg")
    assert "suicide" in found.categories and "suicide" not in found.weak, found


@pytest.mark.parametrize("text", [
    "holdt på å kvele meg sjøl med all kaka",
    "skal drepe søstera mi, hun spiste sjokoladen min",
])
def test_set_ag_figures_of_speech_raise_no_crisis(text: str) -> None:
    assert detect(text).categories == (), detect(text)


@pytest.mark.parametrize("text", [
    "trenger definisjoner på selvskading til eksamen",
    "ble slått ut i andre runde, men det var en god kamp",
    "skal kle meg ut som et mordoffer med kniv i hodet",
    "han dreper meg hele tiden i apex",
])
def test_set_ag_exams_games_boxing_and_costumes_are_unreal(text: str) -> None:
    assert detect(text).unreal, detect(text)


@pytest.mark.parametrize("text", [
    "har mye gjeld etter studiene, men det ordner seg",
    "nå har jeg fast jobb og eget pass, men lurer på om jeg kan få erstatning",
])
def test_set_ag_things_sorting_themselves_out_is_a_good_outcome(text: str) -> None:
    found = detect(text)
    assert found.categories == () and "suicide" in found.calm, found


def test_the_reply_for_harm_to_others_counts_for_an_acute_label() -> None:
    # It takes the acute reply's place, "gå unna" and the emergency number (bot/crisis_layer.py
    # INTENT_OF): a writer's "acute" label on "I am about to hit her" is answered by it.
    from bot.crisis_eval import crisis_reply

    parse = {"intent": {"name": "crisis_acute"}, PARSE_KEY: {"categories": ["harm_others"]}}
    assert crisis_reply(parse) == {"harm_others", "acute"}
    negated = {"intent": {"name": "crisis_acute"},
               PARSE_KEY: {"categories": ["harm_others"], "negated": True}}
    assert crisis_reply(negated) == set()


@pytest.mark.parametrize(("categories", "acute"), [
    (["child"], True),  # "Ring 112 hvis noen er i fare akkurat nå. Alarmtelefonen ..."
    (["trafficking"], True),  # "Er du i fare nå, ring 112. ROSA ..."
    (["suicide"], False),  # opens with the ambulance, 113
    (["suicide", "child"], False),  # led by the suicide reply; the child line has no 112
])
def test_an_acute_label_counts_when_the_reply_opens_with_the_police_number(
    categories: list[str], acute: bool
) -> None:
    from bot.crisis_eval import crisis_reply

    parse = {"intent": {"name": f"crisis_{categories[0]}"}, PARSE_KEY: {"categories": categories}}
    assert crisis_reply(parse) == set(categories) | ({"acute"} if acute else set())


@pytest.mark.parametrize("text", [
    "søstera mi skreiv at han er på veg med kniv, ho svarte ikkje lenger",
    "fikk melding om at han kommer med kniv, hun svara ikke nå",
])
def test_someone_who_does_not_answer_is_no_negation(text: str) -> None:
    # Set L: "ho svara ikkje no" reads as silence, not as "not in danger now".
    assert not detect(text).negated, detect(text)


def test_being_done_with_a_work_contract_is_no_negation() -> None:
    # Set O: "til vi er ferdige med kontrakten" is the length of the work, not the end of danger.
    found = detect("de holder igjen lønna til vi er ferdige med kontrakten og har tatt passene")
    assert "trafficking" in found.categories and not found.negated, found


# From the negation set (tests/crisis/cases_neg.yml, a development set): a negation that does not
# remove the danger, and one that does.
@pytest.mark.parametrize("text, category", [
    ("eg er 10 og mamma seier eg ikkje skal seie til læraren kvifor eg har blått auge", "child"),
    ("han sa jeg aldri blir kvitt han, så da blir jeg heller kvitt meg selv", "suicide"),
    ("ho e itj der frivillig, ho bur i ein kjellar og blir køyrt til 'kundar' kvar kveld",
     "trafficking"),
    ("de tvang meg til å smugle piller i magen, jeg vil ikke igjen", "trafficking"),
])
def test_negation_set_danger_is_found(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text, calm", [
    ("var ikke selvmordsforsøk, bare uhell med medisindosen", "suicide"),
    ("can an employer take your passport? nothing happened to me, asking for a friend",
     "trafficking"),
])
def test_negation_set_denied_danger_is_calm(text: str, calm: str) -> None:
    found = detect(text)
    assert found.categories == () and calm in found.calm, found


def test_a_home_of_ones_own_now_keeps_danger_negated() -> None:
    # "nå" about the new flat is no present danger: the negated line, not the crisis reply.
    found = detect("jeg er ikke i fare nå, var på krisesenter og har egen leilighet nå. "
                   "hva skjer med saken videre?")
    assert found.categories == ("acute",) and found.negated, found


def test_a_run_or_a_parachute_jump_is_unreal_but_danger_named_now_stays() -> None:
    assert detect("fikk ikke puste etter løpeturen, er i elendig form").unreal
    assert detect("var livredd i dag, hoppa i fallskjerm for første gang").unreal
    danger = detect("jeg er ikke i fare sier han, men han står utenfor nå med kniv")
    assert "acute" in danger.categories
    assert "acute" in detect("jeg er i fare nå, han har kniv").categories


# From set AL (a development set since the twenty-third session): someone close threatening or
# attempting suicide, a child's wish to be dead, a death wished at the abuser's hands, bruises
# hidden at school, a debt that grows, Portuguese.
@pytest.mark.parametrize("text, category", [
    ("han sir at om æ reise fra han så skyt han sæ sjøl", "suicide"),
    ("mannen min truer med å ta livet av seg om eg reiser", "suicide"),
    ("han satt med geværet i munnen i kveld", "suicide"),
    ("sønnen min på ni sa i går at han ønske han va død", "suicide"),
    ("vet ikke om jeg skal bruke den på meg selv eller på han", "suicide"),
    ("orkar ikkje kjempe, kanskje betre å la han gjere det ferdig neste gong", "suicide"),
    ("penso em me jogar na frente do trem", "suicide"),
    ("ingen på skolen vet at jg ha blåmerker overalt", "child"),
    ("etter 6 måned jeg skylde mer enn første dag", "trafficking"),
])
def test_set_al_rules_find(text: str, category: str) -> None:
    assert category in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "jeg ønsker han var død, den drittsekken",  # anger at someone, not a wish to die
    "han skyter seg selv i foten hver gang han åpner munnen",
    "jeg er lærer og har blåmerker etter gymtimen",
])
def test_set_al_rules_leave_calm(text: str) -> None:
    assert "suicide" not in detect(text).categories and "child" not in detect(text).categories


# Warning signs of suicide (twenty-fourth session): two different ones together are a crisis,
# each alone is not; written from suicide-prevention guidance, checked on the development sets.
@pytest.mark.parametrize("text", [
    "jeg har bestemt meg. tablettene ligger klare",
    "orker ikke mer. har skrevet brev til barna",
    "har googlet hvor høy brua er. ingen kommer til å savne meg",
    "kutter meg hver kveld og ser ingen utvei",
    "e har gitt bort alt mitt og vil berre forsvinne for godt",
    "i cut myself again tonight, i can't do this anymore",
    "jag skär mig varje kväll och orkar inte mer",
])
def test_two_warning_signs_are_suicide(text: str) -> None:
    found = detect(text)
    assert "suicide" in found.categories and "suicide" not in found.weak, found


@pytest.mark.parametrize("text", [
    "orker ikke mer av denne jobben",
    "tablettene ligger klare på apoteket",
    "jeg har bestemt meg for å flytte, orker ikke mer bråk fra naboen",
    "vi har en plan for turen, brua over fjorden er stengt",
    "skrev brev til alle tantene mine før jul",
    "for ti år siden orket jeg ikke mer og hadde en plan, nå har jeg det bra",
])
def test_one_warning_sign_or_an_everyday_pair_stays_calm(text: str) -> None:
    # (A broad word alone, "orker ikke mer", may still be a weak hit the classifier decides.)
    found = detect(text)
    assert "suicide" not in found.categories or "suicide" in found.weak, found


@pytest.mark.parametrize("text", [
    "eg tenkjer på å ta meg sjølv av dage",
    "han sier han skal skyte meg og så seg selv",
    "jag vill bara dö",
])
def test_suicide_idioms_and_a_murder_suicide_threat(text: str) -> None:
    assert "suicide" in detect(text).categories, detect(text)


# From set AN (a development set since the twenty-fourth session): a rope bought for the boat
# with other gear is no method.
def test_set_an_a_rope_for_the_boat_stays_calm() -> None:
    assert not detect("har kjøpt nytt tau og ei bøye til båten").categories


# From set AN: someone close threatens to take their own life, or to die with the writer; the wish
# to die in other languages people in Norway write in.
@pytest.mark.parametrize("text", [
    "kona sier hun tar livet sitt om jeg går fra henne",
    "pappa truer med å kjøre seg i hjel hvis mamma flytter",
    "my wife keeps saying she will jump from the balcony if i leave",
    "han sier vi skal dø sammen i natt",
    "hun sitter i bilen og sier hun skal kjøre i grøfta med ungene",
    "ich will nicht mehr leben",
    "не хочу жить",
    "اريد ان اموت",
    "nenoriu gyventi",
    "ölmek istiyorum",
])
def test_set_an_rules_find_suicide(text: str) -> None:
    assert "suicide" in detect(text).categories, detect(text)


@pytest.mark.parametrize("text", [
    "leser et skuespill til eksamen, hvorfor valgte hun å ta livet sitt i siste akt",
    "vi skal brenne bål sammen på sankthans",
    "je veux mourir de rire quand je vois ça",  # "die laughing"
])
def test_set_an_rules_leave_calm(text: str) -> None:
    assert "suicide" not in detect(text).categories, detect(text)


# From set AN: a cry for help of a few words with the danger named, too short for the classifier.
@pytest.mark.parametrize("text", ["kniv!! hjelp", "hjelp kveler", "help gun"])
def test_a_short_cry_for_help_with_the_danger_named_is_acute(text: str) -> None:
    found = detect(text)
    assert "acute" in found.categories and "acute" not in found.weak, found


def test_asking_for_help_with_a_knife_is_no_cry_for_help() -> None:
    assert "acute" not in detect("hjelp meg med kniven").categories or "acute" in detect(
        "hjelp meg med kniven").weak
