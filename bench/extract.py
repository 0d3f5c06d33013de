"""Extraction quality and speed: `poller.extract.extract_article` against bare trafilatura.

Quality on the pages in tests/fixtures/pages/ (expected.json lists each page's body
paragraphs and clutter): body recall = share of body paragraphs kept; clutter left = pieces
of page furniture still in the text. Speed: milliseconds per page, median of --repeat runs,
single process, the two extractors interleaved. --pad adds realistic page weight (inline
state script, styles, a mega-menu) to each page, since real article pages weigh 100-300 KB.

    python -m bench.extract [--repeat 30] [--pad 150]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from bench.report import Figure, at_least, at_most, info
from poller.extract import extract_article
from poller.language import detect_language
from poller.pages import decode_html

PAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed passes over all pages")
    parser.add_argument("--pad", type=int, default=0, help="KB of page weight to add per page")
    args = parser.parse_args()
    expected = {
        k: v for k, v in json.loads((PAGES / "expected.json").read_text()).items() if k[0] != "_"
    }
    raw = {name: (PAGES / name).read_bytes() for name in expected}
    pages = {name: decode_html(body, "text/html") for name, body in raw.items()}
    print_quality(expected, pages, raw)
    print()
    print_speed(pages, raw, args.repeat, args.pad)


def print_quality(expected: dict, pages: dict[str, str], raw: dict[str, bytes]) -> None:
    extractors: dict[str, Callable[[str], str | None]] = {
        "ours": lambda name: _text(extract_article(pages[name])),
        "bare(str)": lambda name: trafilatura.extract(pages[name]),
        "bare(bytes)": lambda name: trafilatura.extract(raw[name]),
    }
    print(f"{'page':24}" + "".join(f"{label:>24}" for label in extractors))
    print(f"{'':24}" + f"{'body kept  clutter left':>24}" * len(extractors))
    totals = {label: [0, 0, 0, 0] for label in extractors}
    for name, spec in expected.items():
        cells = []
        for label, extract in extractors.items():
            text = " ".join((extract(name) or "").split())
            body = spec.get("body", [])
            clutter = spec.get("clutter", [])
            kept = sum(snippet in text for snippet in body)
            left = sum(snippet in text for snippet in clutter)
            if not spec.get("extracted", True):
                cells.append("none" if not text else f"{len(text)} chars")
                continue
            totals[label] = [
                a + b
                for a, b in zip(totals[label], [kept, len(body), left, len(clutter)], strict=True)
            ]
            cells.append(f"{kept:>2}/{len(body):<2}      {left:>2}/{len(clutter):<2}")
        print(f"{name:24}" + "".join(f"{cell:>24}" for cell in cells))
    summary = []
    for kept, body, left, clutter in totals.values():
        summary.append(f"{kept / body:6.1%}      {left / clutter:6.1%}")
    print(f"{'all pages':24}" + "".join(f"{cell:>24}" for cell in summary))


def print_speed(pages: dict[str, str], raw: dict[str, bytes], repeat: int, pad_kb: int) -> None:
    html = [_padded(page, pad_kb) for page in pages.values()]
    bodies = [page.encode("utf-8") for page in html]
    runs: dict[str, Callable[[], None]] = {
        "bare trafilatura.extract(html)": lambda: [trafilatura.extract(page) for page in html],
        "extract_article(html)": lambda: [extract_article(page) for page in html],
        "decode+extract+language (ours)": lambda: [_ours_full(body) for body in bodies],
    }
    timings: dict[str, list[float]] = {label: [] for label in runs}
    for run in runs.values():
        run()  # warm caches and language profiles
    for _ in range(repeat):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            timings[label].append((time.perf_counter() - start) * 1000 / len(html))
    size = sum(map(len, bodies)) / len(bodies) / 1024
    print(f"speed: {len(html)} pages, mean {size:.0f} KB, median of {repeat} passes, one process")
    bare = statistics.median(timings["bare trafilatura.extract(html)"])
    for label, values in timings.items():
        median = statistics.median(values)
        print(f"  {label:34} {median:7.2f} ms/page   {bare / median:5.2f}x bare throughput")


def _ours_full(body: bytes) -> None:
    article = extract_article(decode_html(body, "text/html; charset=utf-8"))
    if article is not None:
        detect_language(article.text, prior="ru")


def _text(article) -> str | None:
    return None if article is None else f"{article.title}\n{article.text}"


def _padded(page: str, kb: int) -> str:
    """`page` with about `kb` KB of the weight real pages carry around the article."""
    if kb <= 0:
        return page
    items = [
        {"id": i, "title": f"Заголовок материала номер {i}", "url": f"/news/{i}"}
        for i in range(kb * 5)
    ]
    state = f"<script>window.__STATE__={json.dumps(items, ensure_ascii=False)}</script>"
    style = "<style>" + ".c{color:#000;margin:0 auto}" * (kb * 6) + "</style>"
    links = "".join(f'<li><a href="/rubric/{i}">Рубрика {i}</a></li>' for i in range(kb * 4))
    menu = f'<nav class="mega-menu"><ul>{links}</ul></nav>'
    page = page.replace("</head>", style + state + "</head>", 1)
    return re.sub(r"<body[^>]*>", lambda match: match.group(0) + menu, page, count=1)


if __name__ == "__main__":
    main()


def figures(repeat: int = 10, pad_kb: int = 150, *, quick: bool = False) -> list[Figure]:
    """Quality on the page fixtures and speed, ours against bare trafilatura, for bench.__main__."""
    if quick:
        repeat = 1
    expected = {
        k: v for k, v in json.loads((PAGES / "expected.json").read_text()).items() if k[0] != "_"
    }
    raw = {name: (PAGES / name).read_bytes() for name in expected}
    pages = {name: decode_html(body, "text/html") for name, body in raw.items()}
    ours = _quality(expected, lambda name: _text(extract_article(pages[name])))
    bare = _quality(expected, lambda name: trafilatura.extract(pages[name]))
    html = [_padded(page, pad_kb) for page in pages.values()]
    timings = {"bare": [], "ours": []}
    runs = {
        "bare": lambda: [trafilatura.extract(page) for page in html],
        "ours": lambda: [_ours_full(page.encode("utf-8")) for page in html],
    }
    for run in runs.values():
        run()
    for _ in range(repeat):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            timings[label].append(time.perf_counter() - start)
    speed = statistics.median(timings["bare"]) / statistics.median(timings["ours"])
    pages_note = f"{sum(spec.get('extracted', True) for spec in expected.values())} fixture pages"
    return [
        at_least(
            "extract",
            "body paragraphs kept (ours)",
            ours[0] * 100,
            bare[0] * 100,
            "%",
            f"bare trafilatura keeps {bare[0]:.1%}; {pages_note}",
        ),
        at_most(
            "extract",
            "boilerplate left (ours)",
            ours[1] * 100,
            0.0,
            "%",
            f"bare trafilatura leaves {bare[1]:.1%}",
        ),
        info(
            "extract",
            f"extraction speed, decode+extract+language / bare ({pad_kb} KB pages)",
            speed,
            "×",
            f"median of {repeat} passes, one process",
        ),
    ]


def _quality(expected: dict, extract: Callable[[str], str | None]) -> tuple[float, float]:
    """(share of body snippets kept, share of clutter snippets left) over the pages."""
    kept = body = left = clutter = 0
    for name, spec in expected.items():
        if not spec.get("extracted", True):
            continue
        text = " ".join((extract(name) or "").split())
        kept += sum(snippet in text for snippet in spec.get("body", []))
        body += len(spec.get("body", []))
        left += sum(snippet in text for snippet in spec.get("clutter", []))
        clutter += len(spec.get("clutter", []))
    return kept / body, left / clutter
