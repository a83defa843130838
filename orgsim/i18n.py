"""The language of what orgsim shows a person: gettext catalogs, and which language to use.

Code marks user-visible text with :func:`_` (``_("lead time")``), plurals with
:func:`ngettext` and text that needs a context with :func:`pgettext`; text
defined at import time (tables of labels) is marked with :func:`N_` and
translated where it is shown (``_(label)``). The messages are extracted with
Babel (``babel.cfg`` at the top of the repository) into
``orgsim/locale/orgsim.pot``; the Chinese catalog is
``orgsim/locale/zh/LC_MESSAGES/orgsim.po``, compiled to the ``.mo`` beside it,
which ships in the package and is what runs (read by the standard library's
:mod:`gettext`; Babel is needed only to extract and compile). The tests check
that every message has a Chinese entry and that the shipped ``.mo`` is the
compiled ``.po``.

The language in force is a context variable: :func:`use_language` sets it for
a block (a CLI command, a figure, a report), so that nested code translates
without passing a language along. English is the source language: it needs no
catalog.

Which language: :func:`resolve_language` takes ``--lang`` if given, else the
``ORGSIM_LANG`` environment variable, else the scenario's
``scenario.language``, else English.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "ENV_VAR",
    "LOCALE_DIR",
    "DOMAIN",
    "resolve_language",
    "check_language",
    "use_language",
    "current_language",
    "translations",
    "_",
    "N_",
    "ngettext",
    "pgettext",
]

#: Languages orgsim speaks: English (the source text) and Simplified Chinese.
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
#: Environment variable naming the language when ``--lang`` is not given.
ENV_VAR = "ORGSIM_LANG"
#: Where the compiled catalogs are: ``LOCALE_DIR/<lang>/LC_MESSAGES/orgsim.mo``.
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "orgsim"

_current: ContextVar[str] = ContextVar("orgsim_language", default=DEFAULT_LANGUAGE)


def check_language(lang: str, where: str = "language") -> str:
    """``lang`` normalised (``zh-CN``, ``zh_Hans`` -> ``zh``), or ValueError naming ``where``."""
    norm = str(lang).strip().lower().replace("_", "-")
    base = norm.split("-", 1)[0]
    if base not in LANGUAGES:
        raise ValueError(f"{where}: unknown language {lang!r} (orgsim speaks {', '.join(LANGUAGES)})")
    return base


def resolve_language(cli: str | None = None, scenario: Any = None) -> str:
    """The language to use: ``cli`` (``--lang``), else ``$ORGSIM_LANG``, else the scenario's, else English."""
    if cli:
        return check_language(cli, "--lang")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return check_language(env, ENV_VAR)
    meta = getattr(scenario, "scenario", None)
    language = getattr(meta, "language", None)
    if language:
        return check_language(language, "scenario.language")
    return DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: none, the messages are English)."""
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def current_language() -> str:
    """The language in force (set by :func:`use_language`; English outside one)."""
    return _current.get()


@contextmanager
def use_language(lang: str | None) -> Iterator[str]:
    """Translate into ``lang`` within the block (``None``: keep the language in force)."""
    if lang is None:
        yield _current.get()
        return
    lang = check_language(lang)
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the language in force."""
    return translations(_current.get()).gettext(message)


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark only"
    """Mark ``message`` for extraction; translate it where it is shown, with :func:`_`."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message, for ``n``, in the language in force."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in ``context`` (the same English for different things), in the language in force."""
    return translations(_current.get()).pgettext(context, message)
