"""The docs say only true things: every `keras.*` symbol the README and the docs name exists in
keraslike (or is listed as deliberately absent, with its reason), and every file they name exists."""

import glob
import importlib
import re
from pathlib import Path

import pytest

from keraslike._api_gaps import absent_reason

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "docs/porting.md", "docs/layer_authoring.md", "examples/README.md", "keraslike/README.md"]

_CODE = re.compile(r"`([^`]+)`")
_SYMBOL = re.compile(r"\b(keras(?:like)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_IMPORT = re.compile(r"from (keras(?:like)?(?:\.[A-Za-z_]\w*)*) import ([\w, ]+)")
_PATH = re.compile(r"(?<![\w/.])((?:examples|scripts|docs|tests|keraslike)/[A-Za-z0-9_./-]*[A-Za-z0-9_/-])")


def _texts():
    for name in DOCS:
        path = ROOT / name
        if path.exists():
            yield name, path.read_text(encoding="utf-8")


def _resolve(dotted):
    """Whether `keras.a.b` exists as `keraslike.a.b` (modules imported on the way), or is a
    documented absence."""
    parts = dotted.split(".")
    parts[0] = "keraslike"
    obj = importlib.import_module("keraslike")
    for index, part in enumerate(parts[1:], start=1):
        if hasattr(obj, part) and not _raises(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[: index + 1]))
            continue
        except ImportError:
            pass
        namespace = ".".join(parts[:index])
        return absent_reason(namespace, part) is not None or absent_reason(namespace.replace("keraslike.backend.config", "keraslike.config"), part) is not None
    return True


def _raises(obj, name):
    try:
        getattr(obj, name)
        return False
    except AttributeError:
        return True


def _symbols():
    found = set()
    for name, text in _texts():
        for code in _CODE.findall(text):
            for module, names in _IMPORT.findall(code):
                found.update((name, f"{module}.{n.strip()}") for n in names.split(",") if n.strip())
            code = _IMPORT.sub("", code)
            found.update((name, symbol) for symbol in _SYMBOL.findall(code))
    return sorted(found)


def _paths():
    found = set()
    for name, text in _texts():
        found.update((name, p) for p in _PATH.findall(text))
    return sorted(found)


def test_docs_name_symbols_at_all():
    assert len(_symbols()) > 40 and len(_paths()) > 10


@pytest.mark.parametrize("doc,symbol", _symbols())
def test_every_named_symbol_exists(doc, symbol):
    assert _resolve(symbol), f"{doc} names `{symbol}`, which keraslike does not have"


@pytest.mark.parametrize("doc,path", _paths())
def test_every_named_file_exists(doc, path):
    if path.endswith("_"):  # a family of files, e.g. scripts/bench_*.py written `scripts/bench_`
        assert glob.glob(str(ROOT / (path + "*"))), f"{doc} names files {path}*, none exists"
    else:
        assert (ROOT / path).exists(), f"{doc} names {path}, which does not exist"
