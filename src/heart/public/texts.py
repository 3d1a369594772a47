"""The city's words for its public site (``HEART_PUBLIC_DIR``/site.yaml), checked, and its Markdown made safe.

The file holds what the city writes (what each program does, who is on the team, the FAQ's answers, how to visit
the office, the forms' introductions). What the page knows better comes from elsewhere: a program's name, hours
and crew roles from the loaded program configuration, the numbers from the public figures.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heart.yamlfile import LocatedYaml, read_yaml

SITE_FILE = "site.yaml"
_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")
"""Raw HTML in a text is shown as text (``html: False``); images are off (they would load from anywhere)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Site(_Strict):
    name: str = Field(min_length=1, max_length=120)
    short_name: str = Field(min_length=1, max_length=24)
    intro: str = Field(min_length=1)
    contact_email: str | None = None


class ProgramText(_Strict):
    code: str = Field(min_length=1, max_length=16)
    what_it_does: str = Field(min_length=1)
    team: str = Field(min_length=1)


class Faq(_Strict):
    safety: str = Field(min_length=1)
    must_i_call_911: str = Field(min_length=1)
    why_not: str = Field(min_length=1)


class Visit(_Strict):
    address: str = Field(min_length=1)
    hours: str = Field(min_length=1)
    directions: str = Field(min_length=1)


class Engagement(_Strict):
    event: str = Field(min_length=1)
    volunteer: str = Field(min_length=1)
    interests: dict[str, str] = Field(min_length=1)
    privacy: str = Field(min_length=1)


class PublicTexts(_Strict):
    """The whole file."""

    site: Site
    programs: list[ProgramText] = Field(min_length=1)
    faq: Faq
    visit: Visit
    engagement: Engagement

    def program(self, code: str) -> ProgramText | None:
        return next((text for text in self.programs if text.code == code), None)


def markdown(text: str) -> Markup:
    """The city's Markdown as HTML: its own HTML escaped, no images, links as written."""
    return Markup(_markdown.render(text))  # markdown-it escapes the source and refuses javascript: links


def load_texts(folder: Path) -> PublicTexts:
    """Read and check the city's site file; a mistake names the file, its line and the field."""
    document = read_yaml(folder / SITE_FILE)
    try:
        texts = PublicTexts.model_validate(document.data or {})
    except ValidationError as error:
        raise _located(document, error) from None
    codes = [text.code for text in texts.programs]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise document.error(("programs",), f"programs: {', '.join(repeated)} is listed more than once")
    return texts


def _located(document: LocatedYaml, error: ValidationError) -> Exception:
    first = error.errors()[0]
    location = tuple(first["loc"])
    where = ".".join(str(part) for part in location) or "the file"
    return document.error(location, f"{where}: {first['msg']}")


def public_texts(folder: Path) -> PublicTexts:
    """The texts in force, re-read when the file changes (the city edits it while HEART runs)."""
    try:
        stamp = (folder / SITE_FILE).stat().st_mtime_ns
    except OSError:
        stamp = -1  # read_yaml names the missing file
    return _cached(folder, stamp)


@lru_cache(maxsize=4)
def _cached(folder: Path, _stamp: int) -> PublicTexts:
    return load_texts(folder)
