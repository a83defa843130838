"""orgsim's message catalogs: extract the messages, update the Chinese catalog, compile it.

    python tools/catalog.py update    # orgsim/locale/orgsim.pot from the code, then merge into zh's .po
    python tools/catalog.py compile   # zh's .po -> the .mo that ships in the package
    python tools/catalog.py check     # exit 1 if a message lacks Chinese or the .mo is stale

Needs Babel (a test dependency; ``pip install -e ".[test]"``), which reads
``babel.cfg``. The package itself reads the compiled ``.mo`` with the
standard library's gettext. After changing a message in the code: ``update``,
translate the new entries in ``orgsim/locale/zh/LC_MESSAGES/orgsim.po``
(msgstr), then ``compile``, and commit the three files.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "orgsim" / "locale"
POT = LOCALE / "orgsim.pot"
PO = LOCALE / "zh" / "LC_MESSAGES" / "orgsim.po"
MO = PO.with_suffix(".mo")
#: Dates in the catalogs' headers, fixed so that the files change only when a message does.
_EPOCH = __import__("datetime").datetime(2024, 1, 1, tzinfo=__import__("datetime").timezone.utc)


def extract():  # noqa: ANN201 - babel's Catalog
    """Every message in the package and its templates, as a Babel catalog (sorted, no line numbers)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="orgsim", charset="utf-8", fuzzy=False, creation_date=_EPOCH, revision_date=_EPOCH)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS, strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_po():  # noqa: ANN201
    from babel.messages.pofile import read_po as _read

    with open(PO, "rb") as fh:
        return _read(fh, locale="zh")


def _write_po(catalog, path: Path) -> None:  # noqa: ANN001
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, omit_header=False, no_location=True, width=100)
    path.write_bytes(buffer.getvalue())


def compiled(catalog) -> bytes:  # noqa: ANN001
    """The .mo bytes of ``catalog`` (Babel's compiler: the same input gives the same bytes)."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def update() -> None:
    """Write the template from the code, and merge it into the Chinese catalog (new entries empty)."""
    from babel.messages.catalog import Catalog

    template = extract()
    _write_po(template, POT)
    if PO.exists():
        catalog = read_po()
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale="zh", project="orgsim", charset="utf-8", fuzzy=False, creation_date=_EPOCH,
                          revision_date=_EPOCH)
        catalog.update(template, no_fuzzy_matching=True)
    _write_po(catalog, PO)


def compile_mo() -> None:
    MO.write_bytes(compiled(read_po()))


def missing() -> list[str]:
    """Messages of the code without a Chinese translation in the .po."""
    catalog = read_po()
    out = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        strings = entry.string if entry is not None else None
        if entry is None or entry.fuzzy or not strings or (isinstance(strings, tuple) and not all(strings)):
            out.append(repr(message.id))
    return out


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_mo()
    elif command == "check":
        problems = missing()
        for p in problems:
            print(f"no Chinese for {p}")
        stale = not MO.exists() or MO.read_bytes() != compiled(read_po())
        if stale:
            print(f"{MO.relative_to(ROOT)} is not the compiled {PO.relative_to(ROOT)}: run tools/catalog.py compile")
        return 1 if problems or stale else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
