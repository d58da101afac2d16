"""Coverage of Keras 3's public API: every public name of every Keras namespace exists in keraslike,
is deliberately absent (`keraslike._api_gaps.DELIBERATELY_ABSENT`, with the reason, which is also the
`AttributeError` users get), or is listed below as in progress (being added this session) or
known missing (with no owner yet). A new Keras name, or one that disappears from keraslike, fails.

Run as a script for the per-namespace table and the coverage figure:
`python -m tests.test_api_coverage`.
"""

import importlib
import types

import pytest

import keraslike
from keraslike._api_gaps import DELIBERATELY_ABSENT

NAMESPACES = [
    "", "layers", "ops", "ops.image", "ops.linalg", "ops.nn", "ops.numpy", "random", "tree",
    "losses", "metrics", "optimizers", "optimizers.schedules", "callbacks", "initializers",
    "regularizers", "constraints", "activations", "config", "backend", "utils", "utils.legacy",
    "models", "saving", "applications", "datasets", "mixed_precision", "dtype_policies",
    "quantizers", "distribution", "export", "preprocessing", "preprocessing.image",
    "preprocessing.sequence", "visualization", "wrappers", "distillation", "legacy.saving",
    "optimizers.legacy", "utils.bounding_boxes",
]
DATASETS = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb",
            "mnist", "reuters"]
NAMESPACES += [f"datasets.{name}" for name in DATASETS]


def _split(text):
    return text.split()


# Missing, and nobody is adding them this session: the honest gap list. Each line says what the
# name is; shrink it as they land.
KNOWN_MISSING = {}

# Being added this session (shrinks with each landing).
IN_PROGRESS = {}


def keras_public_names(keras, namespace):
    """Public non-module names of `keras.<namespace>`; `None` if Keras has no such namespace."""
    try:
        module = importlib.import_module("keras" + (f".{namespace}" if namespace else ""))
    except ImportError:
        return None
    return sorted(
        name for name in dir(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), types.ModuleType)
    )


def keraslike_namespace(namespace):
    """`keraslike.<namespace>` as an object, or `None` if it does not exist."""
    obj = keraslike
    for part in namespace.split(".") if namespace else []:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
            except (ImportError, AttributeError):
                return None
    return obj


def _module_name(namespace):
    return "keraslike" + (f".{namespace}" if namespace else "")


def _listed(table, namespace):
    entry = table.get(namespace, ())
    names = set()
    for item in entry:
        if isinstance(item, tuple):
            names.update(item[1])
        else:
            names.add(item)
    return names


def coverage(keras):
    """Per namespace: (present, absent on purpose, known missing or in progress, unexplained missing)."""
    rows = {}
    for namespace in NAMESPACES:
        names = keras_public_names(keras, namespace)
        if names is None:
            continue
        ours = keraslike_namespace(namespace)
        absent = DELIBERATELY_ABSENT.get(_module_name(namespace), {})
        known = _listed(KNOWN_MISSING, namespace) | _listed(IN_PROGRESS, namespace)
        row = {"present": [], "absent": [], "known": [], "unexplained": []}
        for name in names:
            if name in absent:
                row["absent"].append(name)
            elif ours is not None and _has(ours, name):
                row["present"].append(name)
            elif name in known:
                row["known"].append(name)
            else:
                row["unexplained"].append(name)
        rows[namespace] = row
    return rows


def _has(module, name):
    try:
        getattr(module, name)
    except AttributeError:
        return False
    return True


def summary(rows):
    present = sum(len(r["present"]) for r in rows.values())
    neutral = sum(len(r) for row in rows.values() for k, r in row.items() if k != "absent")
    return present, neutral


@pytest.fixture(scope="module")
def rows():
    keras = pytest.importorskip("keras")
    return coverage(keras)


def test_every_keras_name_is_present_or_explained(rows):
    unexplained = {ns or "keras": row["unexplained"] for ns, row in rows.items() if row["unexplained"]}
    present, neutral = summary(rows)
    print(f"\nkeraslike offers {present} of {neutral} backend-neutral Keras names "
          f"({100 * present / neutral:.1f}%)")
    assert not unexplained, (
        "Keras 3 names missing from keraslike and not listed in keraslike/_api_gaps.py, "
        f"KNOWN_MISSING or IN_PROGRESS: {unexplained}"
    )


def test_deliberately_absent_names_are_absent_and_explained():
    for module_name, names in DELIBERATELY_ABSENT.items():
        module = importlib.import_module(module_name) if module_name != "keraslike.config" else (
            keraslike.config
        )
        for name in names:
            with pytest.raises(AttributeError, match="docs/porting.md"):
                getattr(module, name)


def test_porting_guide_lists_every_deliberate_absence():
    import pathlib

    text = (pathlib.Path(__file__).parents[1] / "docs" / "porting.md").read_text()
    for module_name, names in DELIBERATELY_ABSENT.items():
        keras_name = "keras" + module_name[len("keraslike"):]
        for name in names:
            assert f"`{keras_name}.{name}`" in text, f"{keras_name}.{name} not in docs/porting.md"


def test_listed_names_are_not_already_present(rows):
    # Names still listed as known missing / to-do but present are stale entries: remove them.
    stale = {}
    for namespace, row in rows.items():
        ours = keraslike_namespace(namespace)
        listed = _listed(KNOWN_MISSING, namespace) | _listed(IN_PROGRESS, namespace)
        found = sorted(n for n in listed if ours is not None and _has(ours, n))
        if found:
            stale[namespace or "keras"] = found
    assert not stale, f"remove these present names from KNOWN_MISSING / IN_PROGRESS: {stale}"


if __name__ == "__main__":
    import keras as _keras

    table = coverage(_keras)
    for ns, row in table.items():
        total = sum(len(v) for k, v in row.items() if k != "absent")
        print(f"{ns or 'keras':28s} {len(row['present']):4d}/{total:<4d} "
              + " ".join(f"{k}={len(v)}" for k, v in row.items() if v and k != "present"))
        for kind in ("known", "unexplained"):
            if row[kind]:
                print(f"    {kind}: {' '.join(row[kind])}")
    have, neutral = summary(table)
    print(f"TOTAL {have}/{neutral} = {100 * have / neutral:.1f}% of the backend-neutral API")
