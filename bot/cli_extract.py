"""`repostwatch extract`: run the page extractor on saved HTML files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from poller.extract import extract_article
from poller.language import declared_language, detect_language
from poller.pages import decode_html

DEFAULT_PRIOR_LANGUAGE = "en"


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--url", help="The address the pages were saved from (helps find title and date).")
@click.option(
    "--lang",
    "prior",
    help="Language to assume for short texts (default: the page's <html lang>, else en).",
)
def extract_command(files: tuple[Path, ...], url: str | None, prior: str | None) -> None:
    """Extract title, text, language and date from saved HTML pages, one JSON line per file.

    A file that cannot be read or holds no article is reported on stderr; the others are
    still processed, and the exit status is 1 at the end.

    \b
    Example:
        repostwatch extract saved/meduza-article.html --url https://meduza.io/news/2024/03/05/x
    """
    failures = 0
    for path in files:
        record = _extract_file(path, url, prior)
        if isinstance(record, str):
            click.echo(f"{path}: {record}", err=True)
            failures += 1
        else:
            click.echo(json.dumps(record, ensure_ascii=False))
    if failures:
        raise click.exceptions.Exit(1)


def _extract_file(path: Path, url: str | None, prior: str | None) -> dict[str, object] | str:
    """The JSON record for one page, or the reason there is none."""
    try:
        body = path.read_bytes()
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    html = decode_html(body, None)
    article = extract_article(html, url=url)
    if article is None:
        return "no article text found (page too short or not an article)"
    language = prior or declared_language(html) or DEFAULT_PRIOR_LANGUAGE
    return {
        "file": str(path),
        "title": article.title,
        "text": article.text,
        "lang": detect_language(article.text, prior=language),
        "published": article.published.isoformat() if article.published else None,
    }
