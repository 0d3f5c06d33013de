"""One spelling per article: the same story reached through two feeds, an AMP page or a
tracking link must map to the same key before it is stored."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "yclid",
        "ysclid",
        "msclkid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_openstat",
        "_ga",
        "from",
        "ref",
        "ref_src",
        "rss",
        "smid",
        "cmpid",
        "ncid",
        "spm",
        "amp",
    }
)
"""Query keys (lower case) that say where the reader came from, never which page it is."""

TRACKING_PREFIXES = ("utm", "at_", "pk_", "mtm_", "hsa_")
"""Families of tracking keys: Google (utm_*), AT Internet (at_medium...), Matomo (pk_, mtm_)."""

AMP_SWITCHES = frozenset({"outputtype", "output", "format", "view", "mode"})
"""Keys that select the AMP rendering when their value is `amp` (`outputType=amp`)."""

AMP_CACHE_HOSTS = ("cdn.ampproject.org",)
MAX_AMP_UNWRAPS = 3
"""A viewer link inside a viewer link is possible; a hundred of them is an attack."""

ARTICLE_SEGMENT_HOSTS = (
    "rferl.org",
    "svoboda.org",
    "radiosvoboda.org",
    "svaboda.org",
    "currenttime.tv",
    "sibreal.org",
    "severreal.org",
    "idelreal.org",
    "kavkazr.com",
    "krymr.com",
    "voanews.com",
    "golosameriki.com",
)
"""RFE/RL and VOA sites (one CMS): an article lives at /a/slug/N.html and its AMP page at
/amp/slug/N.html, so there `amp` replaces a segment instead of being added."""
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_GOOGLE_HOST = re.compile(r"(www\.)?google(\.[a-z]{2,3}){1,2}")
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*|[0-9a-f:.]*:[0-9a-f:.]*")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


class InvalidURL(ValueError):
    """Not an absolute http(s) URL with a host; the message quotes it."""


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of an article URL (resolved against `base` when relative).

    Lower-case scheme and host, no default port, no fragment, no tracking parameters, no AMP
    variant, remaining query parameters sorted; path case is kept. Raises InvalidURL for
    anything that is not http(s) with a host.
    """
    raw = url.strip()
    if base:
        raw = urljoin(base.strip(), raw)
    return _canonical(raw, url, MAX_AMP_UNWRAPS)


def _canonical(raw: str, url: str, unwraps_left: int) -> str:
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as error:
        raise InvalidURL(f"not a valid URL: {url!r} ({error})") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    cached = _unwrap_amp_cache(host, parts.path, scheme)
    if cached is not None:
        if unwraps_left == 0:
            raise InvalidURL(f"AMP viewer links nested too deep: {url!r}")
        return _canonical(_with_query(cached, parts.query), url, unwraps_left - 1)
    host = _ascii_host(host.removeprefix("amp."))
    if not _HOST.fullmatch(host):
        raise InvalidURL(f"not a valid host name in URL: {url!r}")
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if port in (None, DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    path = _normalize_percent(quote(_strip_amp_path(parts.path, host), safe=_PATH_SAFE)) or "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _ascii_host(host: str) -> str:
    """Internationalised names in their ASCII (punycode) form, so both spellings agree."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # left non-ASCII: refused by the _HOST check


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _unwrap_amp_cache(host: str, path: str, scheme: str) -> str | None:
    """The publisher URL inside a Google AMP viewer or AMP cache URL, if this is one.

    google.com/amp/s/meduza.io/amp/... and www-example-com.cdn.ampproject.org/c/s/example.com/...
    """
    segments = path.lstrip("/").split("/")
    if not _is_amp_viewer(host, segments):
        return None
    segments = segments[1:]
    secure = segments[0] == "s"
    if secure:
        segments = segments[1:]
    if not segments or "." not in segments[0]:
        return None
    return f"{'https' if secure or scheme == 'https' else 'http'}://{'/'.join(segments)}"


def _is_amp_viewer(host: str, segments: list[str]) -> bool:
    if host.endswith(AMP_CACHE_HOSTS):
        return len(segments) >= 3 and segments[0] in {"c", "v"}
    return _GOOGLE_HOST.fullmatch(host) is not None and len(segments) >= 2 and segments[0] == "amp"


def _strip_amp_path(path: str, host: str) -> str:
    """Drop `/amp/` segments, a trailing `/amp` and a `.amp` suffix on the last segment."""
    trailing_slash = path.endswith("/") and path != "/"
    segments = path.split("/")
    if _on(host, ARTICLE_SEGMENT_HOSTS) and len(segments) > 2 and segments[1].lower() == "amp":
        segments[1] = "a"
    segments = [s for s in segments if s.lower() != "amp"]
    if segments and segments[-1].lower().endswith(".amp"):
        segments[-1] = segments[-1][: -len(".amp")]
    elif segments and ".amp." in segments[-1].lower():
        index = segments[-1].lower().rindex(".amp.")
        segments[-1] = segments[-1][:index] + segments[-1][index + len(".amp") :]
    cleaned = "/".join(segments)
    if not cleaned.startswith("/"):
        cleaned = "/" + cleaned
    if trailing_slash and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned if path else ""


def _on(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _clean_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if _is_tracking(unquote(key).strip().lower(), unquote(value).strip().lower()):
            continue
        pairs.append(_normalize_percent(quote(pair, safe=_QUERY_SAFE)))
    return "&".join(sorted(pairs))


def _is_tracking(key: str, value: str) -> bool:
    if key in AMP_SWITCHES:
        return value == "amp"
    return key in TRACKING_PARAMETERS or key.startswith(TRACKING_PREFIXES)


def _normalize_percent(text: str) -> str:
    """Upper-case escapes, and decode escapes of unreserved characters (RFC 3986, 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(fix, text)
