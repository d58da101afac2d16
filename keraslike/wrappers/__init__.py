"""scikit-learn estimators around keraslike models (`keras.wrappers`).

`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` load on first use, so neither
`import keraslike` nor `import keraslike.wrappers` imports scikit-learn (an optional dependency:
`pip install scikit-learn`, or `keraslike[sklearn]`).
"""

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]

from keraslike._lazy import lazy_exports as _lazy_exports  # noqa: E402
from keraslike._lazy import lazy_submodules as _lazy_submodules  # noqa: E402

__getattr__ = _lazy_exports(
    _lazy_submodules("keraslike.wrappers", ("sklearn_support", "sklearn_wrapper")),
    {"sklearn_wrapper": ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer")},
)


def __dir__():
    return sorted(set(globals()) | __getattr__.names)
