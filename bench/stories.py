"""Story matching: quality on the labelled pair set, and the cost of one new article at scale.

    python -m bench.stories                      # pairs, then cost at 1k, 10k and 100k
    python -m bench.stories --sizes 1000,10000   # a quicker cost run
    python -m bench.stories --no-cost            # pairs only

Quality: every pair of tests/fixtures/story_pairs.jsonl goes into a fresh SQLite store, the
earlier article first; a pair counts as matched when both articles end in one story. Precision
and recall are over same-story pairs (cross-language reported apart). Then all articles of the
set go into one store in publication order, so a report can also join a look-alike of another
pair.

Cost: one real SQLite file grows to each size with synthetic, varied articles (Russian and
English, invented people, real cities and laws), all inside the matching window — the worst
case, since older articles leave the index. At each size, new articles (half of them reports
of an event already stored, half new events) are assigned one at a time and timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Figure, at_most, info
from poller.stories import DEFAULT_WINDOW, StoryMatcher
from storage import Article, NewArticle, Store

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "story_pairs.jsonl"


# Quality on the pair set


@dataclass(frozen=True)
class PairOutcome:
    pair_id: str
    batch: int  # 1: written before the rules were tuned; 2: after they were frozen; 3: for
    # the rule for reports that name nobody
    kind: str
    same_story: bool
    cross_language: bool
    predicted_same: bool
    linked_as_followup: bool
    reason: str


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def load_pairs(path: Path = PAIRS) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def evaluate_pairs(pairs: list[dict], workdir: Path) -> list[PairOutcome]:
    """Each pair alone in a fresh store: does the later article join the earlier one's story?"""
    outcomes = []
    for pair in pairs:
        store = Store(workdir / f"{pair['id']}.db")
        try:
            matcher = StoryMatcher(store, window=DEFAULT_WINDOW)
            first = matcher.assign(_stored(store, pair["a"]), relevant=True)
            second = matcher.assign(_stored(store, pair["b"]), relevant=True)
        finally:
            store.close()
        outcomes.append(
            PairOutcome(
                pair_id=pair["id"],
                batch=pair.get("batch", 1),
                kind=pair["kind"],
                same_story=pair["same_story"],
                cross_language=pair["a"]["lang"] != pair["b"]["lang"],
                predicted_same=first.story_id == second.story_id,
                linked_as_followup=second.parent_id == first.story_id,
                reason=second.reason,
            )
        )
    return outcomes


def evaluate_together(pairs: list[dict], workdir: Path) -> tuple[list[PairOutcome], int]:
    """All articles in one store, in publication order; also counts stories mixing events."""
    articles: dict[str, dict] = {}
    events: dict[str, str] = {}
    for pair in pairs:
        for side, event in zip(("a", "b"), pair["events"], strict=True):
            articles[pair[side]["url"]] = pair[side]
            events[pair[side]["url"]] = event
    store = Store(workdir / "together.db")
    try:
        matcher = StoryMatcher(store, window=DEFAULT_WINDOW)
        story_of: dict[str, int] = {}
        parent_of: dict[str, int | None] = {}
        for url, item in sorted(articles.items(), key=lambda pair: pair[1]["published"]):
            assignment = matcher.assign(_stored(store, item), relevant=True)
            story_of[url] = assignment.story_id
            parent_of[url] = assignment.parent_id
    finally:
        store.close()
    outcomes = [
        PairOutcome(
            pair_id=pair["id"],
            batch=pair.get("batch", 1),
            kind=pair["kind"],
            same_story=pair["same_story"],
            cross_language=pair["a"]["lang"] != pair["b"]["lang"],
            predicted_same=story_of[pair["a"]["url"]] == story_of[pair["b"]["url"]],
            linked_as_followup=parent_of[pair["b"]["url"]] == story_of[pair["a"]["url"]],
            reason="",
        )
        for pair in pairs
    ]
    same_events = {tuple(sorted(pair["events"])) for pair in pairs if pair["same_story"]}
    mixed = 0
    for story_id in set(story_of.values()):
        found = sorted({events[url] for url, story in story_of.items() if story == story_id})
        joined = {(a, b) for i, a in enumerate(found) for b in found[i + 1 :]}
        mixed += any(link not in same_events for link in joined)
    return outcomes, mixed


def scores(outcomes: Iterable[PairOutcome]) -> Scores:
    outcomes = list(outcomes)
    tp = sum(1 for o in outcomes if o.same_story and o.predicted_same)
    fp = sum(1 for o in outcomes if not o.same_story and o.predicted_same)
    fn = sum(1 for o in outcomes if o.same_story and not o.predicted_same)
    return Scores(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def _stored(store: Store, item: dict) -> Article:
    published = datetime.fromisoformat(item["published"])
    article = store.add_article(
        NewArticle(
            url=item["url"],
            feed=item["outlet"],
            title=item["title"],
            text=item["text"],
            lang=item["lang"],
            source="page",
            published=published,
        ),
        fetched_at=published,
    )
    if article is None:
        article = store.article_by_url(item["url"])
    assert article is not None
    return article


def print_quality(pairs: list[dict], workdir: Path, *, verbose: bool) -> None:
    outcomes = evaluate_pairs(pairs, workdir)
    print(f"Story matching on {PAIRS.name}: {len(pairs)} pairs, each pair in a fresh store")
    _print_scores("all pairs", scores(outcomes))
    _print_scores("same language", scores(o for o in outcomes if not o.cross_language))
    _print_scores("cross-language", scores(o for o in outcomes if o.cross_language))
    batches = (
        (1, "batch 1 (tuned)"),
        (2, "batch 2 (held out, then tuned)"),
        (3, "batch 3 (unnamed reports)"),
    )
    for batch, label in batches:
        _print_scores(label, scores(o for o in outcomes if o.batch == batch))
    for kind, count in sorted(Counter(o.kind for o in outcomes).items()):
        joined = sum(1 for o in outcomes if o.kind == kind and o.predicted_same)
        print(f"  {kind:<16} {joined:>3}/{count:<3} joined one story")
    followups = [o for o in outcomes if o.kind == "follow-up"]
    linked = sum(1 for o in followups if o.linked_as_followup)
    print(f"  follow-ups linked to the earlier story as parent: {linked}/{len(followups)}")
    if verbose:
        for o in outcomes:
            if o.same_story != o.predicted_same:
                print(f"    miss {o.pair_id} {o.kind}: predicted {o.predicted_same} ({o.reason})")
    together, mixed = evaluate_together(pairs, workdir)
    articles = len({pair[side]["url"] for pair in pairs for side in ("a", "b")})
    print(f"All {articles} articles in one store, in publication order:")
    _print_scores("all pairs", scores(together))
    _print_scores("cross-language", scores(o for o in together if o.cross_language))
    print(f"  stories that mix different events: {mixed}")


def _print_scores(label: str, result: Scores) -> None:
    print(
        f"  {label:<16} precision {result.precision:.3f}  recall {result.recall:.3f}  "
        f"(tp {result.true_positives}, fp {result.false_positives}, "
        f"fn {result.false_negatives})"
    )


# Cost at scale

CITIES = (
    ("Барнаул", "Барнаула", "Barnaul"), ("Казань", "Казани", "Kazan"),
    ("Омск", "Омска", "Omsk"), ("Томск", "Томска", "Tomsk"), ("Пермь", "Перми", "Perm"),
    ("Самара", "Самары", "Samara"), ("Уфа", "Уфы", "Ufa"), ("Тверь", "Твери", "Tver"),
    ("Курск", "Курска", "Kursk"), ("Тула", "Тулы", "Tula"), ("Киров", "Кирова", "Kirov"),
    ("Иркутск", "Иркутска", "Irkutsk"), ("Хабаровск", "Хабаровска", "Khabarovsk"),
    ("Воронеж", "Воронежа", "Voronezh"), ("Саратов", "Саратова", "Saratov"),
    ("Смоленск", "Смоленска", "Smolensk"), ("Белгород", "Белгорода", "Belgorod"),
    ("Челябинск", "Челябинска", "Chelyabinsk"), ("Красноярск", "Красноярска", "Krasnoyarsk"),
    ("Новосибирск", "Новосибирска", "Novosibirsk"), ("Ижевск", "Ижевска", "Izhevsk"),
    ("Архангельск", "Архангельска", "Arkhangelsk"), ("Мурманск", "Мурманска", "Murmansk"),
    ("Ярославль", "Ярославля", "Yaroslavl"), ("Калининград", "Калининграда", "Kaliningrad"),
    ("Пенза", "Пензы", "Penza"), ("Липецк", "Липецка", "Lipetsk"), ("Орел", "Орла", "Oryol"),
    ("Брянск", "Брянска", "Bryansk"), ("Вологда", "Вологды", "Vologda"),
    ("Кострома", "Костромы", "Kostroma"), ("Сочи", "Сочи", "Sochi"),
)  # fmt: skip
FIRST = (
    ("Андрей", "Андрея", "Andrei"), ("Сергей", "Сергея", "Sergei"), ("Олег", "Олега", "Oleg"),
    ("Игорь", "Игоря", "Igor"), ("Денис", "Дениса", "Denis"), ("Роман", "Романа", "Roman"),
    ("Максим", "Максима", "Maxim"), ("Виктор", "Виктора", "Viktor"), ("Иван", "Ивана", "Ivan"),
    ("Антон", "Антона", "Anton"), ("Кирилл", "Кирилла", "Kirill"), ("Тимур", "Тимура", "Timur"),
)  # fmt: skip
SURNAME_HEADS = [
    "Бел",
    "Вор",
    "Гон",
    "Дуб",
    "Жар",
    "Зим",
    "Кар",
    "Лоп",
    "Мор",
    "Нес",
    "Пах",
    "Рыб",
    "Сав",
    "Тар",
    "Фил",
    "Хол",
    "Чер",
    "Шуст",
    "Бур",
    "Вид",
    "Гус",
    "Дер",
    "Ерм",
    "Жил",
    "Зай",
    "Кол",
    "Лав",
    "Мял",
    "Нов",
    "Орл",
    "Пет",
    "Род",
    "Сем",
    "Тих",
    "Усп",
    "Фед",
    "Цыб",
    "Шар",
    "Щук",
    "Юр",
]
SURNAME_MIDDLES = ["", "ан", "ор", "ен", "ил", "ар", "уш", "ет"]
SURNAME_TAILS = ["ов", "ев", "ин", "ский", "енко", "ук", "ич"]
LAWS = ("20.3.3", "280.3", "207.3", "205.2", "282", "20.29", "20.3", "280")
PLATFORMS = (("«ВКонтакте»", "VKontakte"), ("Telegram", "Telegram"), ("TikTok", "TikTok"),
             ("YouTube", "YouTube"), ("«Одноклассниках»", "Odnoklassniki"),
             ("Instagram", "Instagram"), ("WhatsApp", "WhatsApp"))  # fmt: skip
POSTS = (("репоста", "a repost"), ("комментария", "a comment"), ("видео", "a video"),
         ("поста", "a post"), ("лайка", "a like"), ("сторис", "a story"), ("мема", "a meme"))  # fmt: skip
JOBS = (("блогера", "blogger"), ("учителя", "teacher"), ("пенсионера", "pensioner"),
        ("студента", "student"), ("активиста", "activist"), ("журналиста", "journalist"),
        ("инженера", "engineer"), ("водителя", "driver"), ("врача", "doctor"),
        ("программиста", "programmer"))  # fmt: skip
STAGES = ("fine", "arrest", "sentence", "detention")
OUTLETS_RU = ("tass-ru", "ovd-info", "mediazona-ru", "meduza-ru", "kommersant-ru", "rbc-ru")
OUTLETS_EN = ("moscow-times-en", "meduza-en", "ovd-info-en", "reuters-en")
FILLER_RU = (
    ("Адвокат", "Правозащитники", "Пресс-служба суда", "Знакомые", "Местные журналисты",
     "Сам обвиняемый", "Коллеги", "Родственники", "Источник в полиции"),
    ("заявили", "сообщили", "рассказали", "отметили", "уточнили"),
    ("что решение будет обжаловано", "что публикация давно удалена",
     "что заседание длилось около часа", "что на странице было немного подписчиков",
     "что дело носит политический характер", "что экспертизу проводил местный вуз",
     "что телефон изъяли при задержании", "что ранее претензий не было",
     "что свидетелем выступил полицейский", "что в зале было много слушателей"),
    ("в среду", "после заседания", "вечером", "в разговоре с редакцией", "накануне", "утром"),
)  # fmt: skip
FILLER_EN = (
    ("His lawyer", "Rights activists", "The court's press service", "Friends",
     "Local reporters", "The defendant himself", "Colleagues", "Relatives", "A police source"),
    ("said", "told reporters", "noted", "confirmed", "added"),
    ("that the ruling would be appealed", "that the post had long been deleted",
     "that the hearing lasted about an hour", "that the page had few followers",
     "that the case was political", "that a local university did the expert review",
     "that his phone was seized at the arrest", "that there had been no complaints before",
     "that a police officer testified", "that the courtroom was full"),
    ("on Wednesday", "after the hearing", "in the evening", "in an interview", "a day earlier",
     "in the morning"),
)  # fmt: skip
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "_", "y", "_", "e", "yu", "ya"],
    strict=True))  # fmt: skip


@dataclass(frozen=True)
class Event:
    first: tuple[str, str, str]  # nominative, genitive, Latin
    surname: str
    age: int
    city: tuple[str, str, str]
    law: str
    platform: tuple[str, str]
    post: tuple[str, str]
    job: tuple[str, str]
    stage: str
    penalty: int  # rubles, days or years, by stage
    day: datetime


def synthetic_events(rng: random.Random, start: datetime, span: timedelta) -> Iterator[Event]:
    while True:
        stage = rng.choice(STAGES)
        penalty = {
            "fine": rng.choice(range(10_000, 150_001, 5_000)),
            "arrest": rng.randint(5, 15),
            "sentence": rng.randint(2, 8),
            "detention": 2,
        }[stage]
        yield Event(
            first=rng.choice(FIRST),
            surname=rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_MIDDLES)
            + rng.choice(SURNAME_TAILS),
            age=rng.randint(19, 75),
            city=rng.choice(CITIES),
            law=rng.choice(LAWS),
            platform=rng.choice(PLATFORMS),
            post=rng.choice(POSTS),
            job=rng.choice(JOBS),
            stage=stage,
            penalty=penalty,
            day=start + span * rng.random(),
        )  # fmt: skip


def synthetic_article(rng: random.Random, event: Event, lang: str, serial: int) -> NewArticle:
    """A short report of `event` in the style of a news item; wording varies from call to call."""
    if lang == "ru":
        title, lead = _russian(rng, event)
        pool, feed = FILLER_RU, rng.choice(OUTLETS_RU)
    else:
        title, lead = _english(rng, event)
        pool, feed = FILLER_EN, rng.choice(OUTLETS_EN)
    fillers = [
        f"{rng.choice(pool[0])} {rng.choice(pool[1])} {rng.choice(pool[3])} {rng.choice(pool[2])}."
        for _ in range(rng.randint(2, 4))
    ]
    return NewArticle(
        url=f"https://{feed}.example/{serial}",
        feed=feed,
        title=title,
        text=" ".join([lead, *fillers]),
        lang=lang,
        source="page",
        published=event.day + timedelta(minutes=rng.randint(0, 600)),
    )


def _russian(rng: random.Random, e: Event) -> tuple[str, str]:
    person = f"{e.first[1]} {_genitive(e.surname)}"
    court = rng.choice(("Суд", "Районный суд", "Городской суд"))
    penalty = {
        "fine": f"оштрафовал {e.age}-летнего {e.job[0]} {person} на {e.penalty:,} рублей".replace(
            ",", " "
        ),
        "arrest": f"арестовал на {e.penalty} суток {e.age}-летнего {e.job[0]} {person}",
        "sentence": f"приговорил {e.age}-летнего {e.job[0]} {person} к {e.penalty} годам колонии",
        "detention": f"отправил в СИЗО на два месяца {e.age}-летнего {e.job[0]} {person}",
    }[e.stage]
    lead = rng.choice((
        f"{court} {e.city[1]} {penalty} по ст. {e.law} из-за {e.post[0]} в {e.platform[0]}.",
        f"В городе {e.city[0]} {court.lower()} {penalty}. Поводом стала публикация в {e.platform[0]} (ст. {e.law}).",
    ))  # fmt: skip
    title = rng.choice((
        f"{e.first[0]} {e.surname}: решение суда из-за {e.post[0]}",
        f"Жителя {e.city[1]} {_genitive(e.surname)} наказали за {e.post[0][:-1]}",
        f"В городе {e.city[0]} наказали {e.job[0]} за публикацию в {e.platform[0]}",
    ))  # fmt: skip
    return title, lead


def _english(rng: random.Random, e: Event) -> tuple[str, str]:
    name = f"{e.first[2]} {_latin(e.surname)}"
    penalty = {
        "fine": f"fined {e.job[1]} {name}, {e.age}, {e.penalty:,} rubles",
        "arrest": f"jailed {e.job[1]} {name}, {e.age}, for {e.penalty} days",
        "sentence": f"sentenced {e.job[1]} {name}, {e.age}, to {e.penalty} years in a penal colony",
        "detention": f"remanded {e.job[1]} {name}, {e.age}, in custody for two months",
    }[e.stage]
    lead = rng.choice((
        f"A court in {e.city[2]} has {penalty} under Article {e.law} over {e.post[1]} on {e.platform[1]}.",
        f"Judges in the city of {e.city[2]} {penalty} for {e.post[1]} on {e.platform[1]}, local media reported.",
    ))  # fmt: skip
    title = rng.choice((
        f"{e.city[2]} court punishes {e.job[1]} {name} over {e.platform[1]} post",
        f"{name} punished in {e.city[2]} for {e.post[1][2:]}",
        f"Russian {e.job[1]} punished for social media post in {e.city[2]}",
    ))  # fmt: skip
    return title, lead


def _genitive(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ого"
    if surname.endswith(("енко", "ук", "ич")):
        return surname + ("" if surname.endswith("енко") else "а")
    return surname + "а"


def _latin(surname: str) -> str:
    latin = "".join(TRANSLIT.get(char, char) for char in surname.lower()).replace("_", "")
    return latin.replace("skiy", "sky").replace("iy", "y").capitalize()


@dataclass(frozen=True)
class CostRow:
    stored: int
    indexed: int
    assign_median_us: float  # match, then write the story and signature (one run each)
    assign_p90_us: float
    match_median_us: float  # fingerprint, look up and judge candidates (fastest of 3 runs)
    joined_reports: float  # share of report probes that joined their event's story
    false_joins: float  # share of new-event probes that joined some story
    rebuild_s: float
    index_mb: float  # what the rebuilt in-memory index holds (tracemalloc)
    rss_mb: float  # the whole benchmark process at its peak


def measure_cost(sizes: list[int], probes: int, workdir: Path, seed: int = 7) -> list[CostRow]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    span = DEFAULT_WINDOW - timedelta(hours=12)
    events = synthetic_events(rng, start, span)
    store = Store(workdir / "cost.db")
    matcher = StoryMatcher(store, window=DEFAULT_WINDOW)
    serial = 0
    stored_events: list[tuple[Event, int]] = []
    rows = []
    for size in sizes:
        batch: list[tuple[NewArticle, Event]] = []
        while store.count_articles() + len(batch) < size:
            event = next(events)
            for _ in range(rng.choice((1, 1, 2, 3))):
                serial += 1
                batch.append(
                    (synthetic_article(rng, event, rng.choice(("ru", "en")), serial), event)
                )
        batch.sort(key=lambda item: item[0].published)
        for chunk_start in range(0, len(batch), 1000):
            with store.transaction():
                for new, event in batch[chunk_start : chunk_start + 1000]:
                    article = store.add_article(new, fetched_at=new.published)
                    assignment = matcher.assign(article, relevant=True)
                    stored_events.append((event, assignment.story_id))
        began = time.perf_counter()
        matcher = StoryMatcher(store, window=DEFAULT_WINDOW)
        rebuild = time.perf_counter() - began
        index_mb = _index_mb(store)
        rows.append(
            _probe(store, matcher, rng, events, stored_events, probes, serial, rebuild, index_mb)
        )
        serial += probes
    store.close()
    return rows


def _probe(
    store: Store,
    matcher: StoryMatcher,
    rng: random.Random,
    events: Iterator[Event],
    stored_events: list[tuple[Event, int]],
    probes: int,
    serial: int,
    rebuild: float,
    index_mb: float,
) -> CostRow:
    latest = max(event.day for event, _ in stored_events[-2000:])
    assign_times, match_times = [], []
    joined = reports = false_joins = fresh = 0
    for index in range(probes):
        serial += 1
        if index % 2 == 0:
            event, story_id = rng.choice(stored_events[-5000:])
            reports += 1
        else:
            event, story_id = next(events), None
            fresh += 1
        event = Event(**{**event.__dict__, "day": latest})
        new = synthetic_article(rng, event, rng.choice(("ru", "en")), serial)
        article = store.add_article(new, fetched_at=new.published)
        match_times.append(_fastest_us(lambda article=article: matcher.match(article)))
        began = time.perf_counter_ns()
        assignment = matcher.assign(article, relevant=True)
        assign_times.append((time.perf_counter_ns() - began) / 1000)
        if story_id is not None:
            joined += assignment.story_id == story_id
        else:
            false_joins += not assignment.new_story
    return CostRow(
        stored=store.count_articles(),
        indexed=matcher.indexed(),
        assign_median_us=statistics.median(assign_times),
        assign_p90_us=statistics.quantiles(assign_times, n=10)[-1],
        match_median_us=statistics.median(match_times),
        joined_reports=joined / max(1, reports),
        false_joins=false_joins / max(1, fresh),
        rebuild_s=rebuild,
        index_mb=index_mb,
        rss_mb=_rss_mb(),
    )


def _fastest_us(call: Callable[[], object], runs: int = 3) -> float:
    """The fastest of a few runs: the cost of the work, less what other processes took."""
    times = []
    for _ in range(runs):
        began = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - began) / 1000)
    return min(times)


def _index_mb(store: Store) -> float:
    """Memory a matcher built from the store holds: traced while a second one is built."""
    gc.collect()
    tracemalloc.start()
    try:
        matcher = StoryMatcher(store, window=DEFAULT_WINDOW)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del matcher
    return held / 1e6


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_cost(rows: list[CostRow]) -> None:
    print(
        "Cost of one new article (real SQLite file; synthetic articles, all inside the "
        f"{DEFAULT_WINDOW.days}-day window)"
    )
    print(
        f"  {'stored':>8} {'indexed':>8} {'assign µs':>10} {'p90 µs':>8} {'match µs':>9} "
        f"{'reports joined':>15} {'new joined':>11} {'rebuild s':>10} {'index MB':>9} "
        f"{'max RSS MB':>11}"
    )
    for row in rows:
        print(
            f"  {row.stored:>8,} {row.indexed:>8,} {row.assign_median_us:>10.0f} "
            f"{row.assign_p90_us:>8.0f} {row.match_median_us:>9.0f} {row.joined_reports:>15.2f} "
            f"{row.false_joins:>11.2f} {row.rebuild_s:>10.2f} {row.index_mb:>9.0f} "
            f"{row.rss_mb:>11.0f}"
        )
    base = rows[0]
    for row in rows[1:]:
        print(
            f"  {row.stored:,} vs {base.stored:,}: assign {row.assign_median_us / base.assign_median_us:.2f}x, "
            f"match {row.match_median_us / base.match_median_us:.2f}x (target <= 1.5x)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stories", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--no-cost", action="store_true")
    parser.add_argument("--no-pairs", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every mismatched pair")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        workdir = Path(tmp)
        if not args.no_pairs:
            print_quality(load_pairs(args.pairs), workdir, verbose=args.verbose)
        if not args.no_cost:
            sizes = [int(size) for size in args.sizes.split(",")]
            print_cost(measure_cost(sizes, args.probes, workdir))


if __name__ == "__main__":
    main()


FLAT_LIMIT = 1.5  # cost per new article at the largest size / at the smallest, DESIGN.md


def figures(
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000), probes: int = 300, *, quick: bool = False
) -> list[Figure]:
    """Matching quality on the pair set and the cost of one article at scale, for the runner."""
    if quick:
        sizes, probes = (200, 1_000), 40
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        workdir = Path(tmp)
        pairs = load_pairs()
        quality = scores(evaluate_pairs(pairs, workdir))
        rows = measure_cost(list(sizes), probes, workdir)
    base, top = rows[0], rows[-1]
    found = [
        info(
            "stories",
            "same-story pairs joined: precision",
            quality.precision,
            "",
            f"{len(pairs)} labelled pairs, each in a fresh store",
        ),
        info("stories", "same-story pairs joined: recall", quality.recall, ""),
    ]
    found += [
        info(
            "stories",
            f"assign one new article, {row.stored:,} stored",
            row.assign_median_us,
            "µs",
            f"median of {probes}; p90 {row.assign_p90_us:.0f} µs; {row.indexed:,} in the index; "
            f"process max RSS {row.rss_mb:.0f} MB",
        )
        for row in rows
    ]
    found.append(
        at_most(
            "stories",
            f"cost per new article, {top.stored:,} / {base.stored:,} stored",
            top.assign_median_us / base.assign_median_us,
            FLAT_LIMIT,
            "×",
        )
    )
    return found
