"""What the scikit-learn wrappers need from scikit-learn, and the target reshaping they share.

scikit-learn is optional: without it this module still imports (the wrappers' base classes are
stand-ins) and constructing a wrapper raises an `ImportError` saying how to install it
(`assert_sklearn_installed`).
"""

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # the wrappers refuse to be built; the classes still exist, as in Keras
    sklearn = None

    class BaseEstimator:
        """Stand-in for `sklearn.base.BaseEstimator` when scikit-learn is not installed."""

    class ClassifierMixin:
        """Stand-in for `sklearn.base.ClassifierMixin` when scikit-learn is not installed."""

    class RegressorMixin:
        """Stand-in for `sklearn.base.RegressorMixin` when scikit-learn is not installed."""

    class TransformerMixin:
        """Stand-in for `sklearn.base.TransformerMixin` when scikit-learn is not installed."""


def assert_sklearn_installed(symbol_name):
    """Raises `ImportError` naming `symbol_name` when scikit-learn is not installed."""
    if sklearn is None:
        raise ImportError(
            f"{symbol_name} requires `scikit-learn` to be installed. Run `pip install "
            "scikit-learn` (or `pip install keraslike[sklearn]`) to install it."
        )


def validate_data(estimator, *args, **kwargs):
    """scikit-learn's input validation (`sklearn.utils.validation.validate_data`, or the
    estimator's `_validate_data` before scikit-learn 1.6): sets or checks `n_features_in_`."""
    try:
        from sklearn.utils.validation import validate_data as sk_validate_data
    except ImportError:  # scikit-learn < 1.6
        return estimator._validate_data(*args, **kwargs)
    return sk_validate_data(estimator, *args, **kwargs)


def type_of_target(y, input_name="", *, raise_unknown=False):
    """scikit-learn's `type_of_target`; with `raise_unknown`, "unknown" is a ValueError."""
    from sklearn.utils.multiclass import type_of_target as sk_type_of_target

    target_type = sk_type_of_target(y, input_name=input_name)
    if raise_unknown and target_type == "unknown":
        raise ValueError(f"Unknown label type for {input_name or 'data'}: {y!r}")
    return target_type


def routing_enabled():
    """Whether scikit-learn's metadata routing is enabled (`sklearn.set_config`)."""
    if sklearn is None:
        return False
    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def check_model(model):
    """Raises `RuntimeError` unless `model` is compiled with a loss and an optimizer."""
    if not getattr(model, "compiled", False) or not model.loss or not model.optimizer:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Makes 1D targets 2D and back, for transformers that take 2D inputs (`OneHotEncoder`).

    Attributes:
        ndim_: The number of dimensions of the `y` it was fitted on.
    """

    def fit(self, y):
        """Remembers the number of dimensions of `y`; returns `self`."""
        self.ndim_ = y.ndim
        return self

    def transform(self, y):
        """Returns `y` with a trailing axis added when it is 1D."""
        if y.ndim == 1:
            return y.reshape(-1, 1)
        return y

    def inverse_transform(self, y):
        """Undoes `transform`: a `(n, 1)` array goes back to `(n,)` when the fitted `y` was 1D."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y
