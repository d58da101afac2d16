"""scikit-learn estimators around keraslike models: `SKLearnClassifier`, `SKLearnRegressor` and
`SKLearnTransformer` (Keras 3's `keras.wrappers`).

Each wraps a compiled model, or a function building one from the data (`model(X=..., y=...,
**model_kwargs)`), so that it works with `Pipeline`, `clone`, `cross_val_score`,
`GridSearchCV` and the rest of scikit-learn. Where Keras 3.15 differs from what its own
docstrings promise, these follow the docstrings:

- `warm_start=True` continues training the fitted model on the next `fit` (Keras rebuilds it).
- `sklearn.base.clone` keeps `fit_kwargs` (Keras drops them, so a clone trains one epoch).
- `fit(X, y, **kwargs)` does not write `kwargs` into the `fit_kwargs` dict it was given.
- `epoch_` is the epochs the last `fit` reached (Keras raises `AttributeError` once fitted).
- `set_fit_request` routes metadata to `fit` (Keras routes it to `score`).
"""

import copy

import numpy as np

from keraslike.models import Model, clone_model
from keraslike.wrappers import sklearn_support
from keraslike.wrappers.sklearn_support import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TargetReshaper,
    TransformerMixin,
)


class SKLBase(BaseEstimator):
    """Base class of the scikit-learn wrappers (shared constructor, `fit` and `predict`).

    Training has sources of randomness (weight initialization, shuffling): seed them with
    `keras.utils.set_random_seed` for reproducible fits.

    Args:
        model: A compiled `keras.Model`, or a callable returning one. A model is cloned with
            `keras.models.clone_model` (new weights, same compile settings) before each fit
            from scratch. A callable is called as `model(X=X, y=y, **model_kwargs)` with the
            validated inputs and the encoded targets (one-hot for classifiers).
        warm_start: bool, defaults to `False`. Whether `fit` on an already fitted wrapper
            continues training `model_` from its current weights instead of building a new
            model.
        model_kwargs: dict, defaults to `None`. Keyword arguments passed to `model`, if
            `model` is callable.
        fit_kwargs: dict, defaults to `None`. Keyword arguments passed to `model.fit`. They
            can also be passed to the wrapper's `fit`; those take precedence.

    Attributes:
        model_: The fitted `keras.Model`.
        history_: The `History` returned by `model_.fit`.
        n_features_in_: The number of features seen in `fit`.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        sklearn_support.assert_sklearn_installed(self.__class__.__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _more_tags(self):
        return {"non_deterministic": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self):
        """A new unfitted wrapper with the same parameters (`sklearn.base.clone` calls this).

        The model (or model-building function) is shared, not deep-copied: `fit` clones a
        model before training it, so the clone never trains the original.
        """
        model = self.model if callable(self.model) else copy.deepcopy(self.model)
        return type(self)(
            model=model,
            warm_start=self.warm_start,
            model_kwargs=self.model_kwargs,
            fit_kwargs=self.fit_kwargs,
        )

    @property
    def epoch_(self):
        """The epochs the last `fit` reached (its last epoch index + 1; 0 before any fit)."""
        history = getattr(self, "history_", None)
        epochs = getattr(history, "epoch", None)
        return epochs[-1] + 1 if epochs else 0

    def set_fit_request(self, **kwargs):
        """Sets the metadata (e.g. `sample_weight`) that `fit` requests from a meta-estimator.

        See scikit-learn's metadata routing (`sklearn.set_config(enable_metadata_routing=True)`).

        Args:
            **kwargs: `param_name=alias`, where `alias` is `True`, `False`, `None` or a string.

        Returns:
            self

        Raises:
            RuntimeError: When metadata routing is not enabled.
        """
        if not sklearn_support.routing_enabled():
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True)."
            )
        from sklearn.utils.metadata_routing import MetadataRequest

        self._metadata_request = MetadataRequest(owner=self.__class__.__name__)
        for param, alias in kwargs.items():
            self._metadata_request.fit.add_request(param=param, alias=alias)
        return self

    def _get_model(self, X, y):
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            model = clone_model(self.model)
            # `clone_model` compiles a functional or Sequential clone itself; a subclassed
            # model's clone (rebuilt from its config) comes back uncompiled.
            if getattr(self.model, "compiled", False) and not getattr(model, "compiled", False):
                model.compile_from_config(self.model.get_compile_config())
            return model
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X, y, **kwargs):
        """Fits the model.

        Args:
            X: array-like of shape `(n_samples, n_features)`, the input samples.
            y: array-like of shape `(n_samples,)` or `(n_samples, n_outputs)`, the targets.
            **kwargs: Keyword arguments for `model.fit`, over those of `fit_kwargs`.

        Returns:
            self
        """
        X, y = sklearn_support.validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        sklearn_support.check_model(model)
        fit_kwargs = dict(self.fit_kwargs or {})
        fit_kwargs.update(kwargs)
        self.history_ = model.fit(X, y, **fit_kwargs)
        self.model_ = model
        return self

    def predict(self, X):
        """Returns the model's predictions for `X`, decoded like the targets given to `fit`."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = sklearn_support.validate_data(self, X, reset=False)
        return self._reverse_process_target(self.model_.predict(X))

    def _process_target(self, y, reset=False):
        """Regressors and transformers only make 1D targets 2D; classifiers one-hot encode."""
        sklearn_support.type_of_target(y, raise_unknown=True)  # Keras's error on a bad target
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """scikit-learn classifier around a Keras model.

    Targets are one-hot encoded for the model (`OneHotEncoder` over the sorted class labels),
    so the model's output has one unit per class; `predict` returns the class label of each
    row's largest output, `decision_function` the raw outputs.

    Args:
        model: A compiled `keras.Model`, or a callable returning one. A model is cloned with
            `keras.models.clone_model` (new weights, same compile settings) before each fit
            from scratch. A callable is called as `model(X=X, y=y, **model_kwargs)` with the
            validated inputs and the encoded targets (one-hot for classifiers).
        warm_start: bool, defaults to `False`. Whether `fit` on an already fitted wrapper
            continues training `model_` from its current weights instead of building a new
            model.
        model_kwargs: dict, defaults to `None`. Keyword arguments passed to `model`, if
            `model` is callable.
        fit_kwargs: dict, defaults to `None`. Keyword arguments passed to `model.fit`. They
            can also be passed to the wrapper's `fit`; those take precedence.

    Attributes:
        model_: The fitted `keras.Model`.
        history_: The `History` returned by `model_.fit`.
        classes_: The class labels, sorted (shape `(n_classes,)`).
        n_features_in_: The number of features seen in `fit`.

    Raises:
        ImportError: When scikit-learn is not installed.

    Example:

    ```python
    def dynamic_model(X, y, loss, layers=[10]):
        inputs = keras.Input(shape=(X.shape[1],))
        hidden = inputs
        for size in layers:
            hidden = keras.layers.Dense(size, activation="relu")(hidden)
        outputs = keras.layers.Dense(y.shape[1], activation="softmax")(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(loss=loss, optimizer="rmsprop")
        return model

    X, y = sklearn.datasets.make_classification(n_samples=1000, n_features=10)
    est = keras.wrappers.SKLearnClassifier(
        model=dynamic_model,
        model_kwargs={"loss": "categorical_crossentropy", "layers": [20, 20, 20]},
    )
    est.fit(X, y, epochs=5)
    ```
    """

    def decision_function(self, X):
        """Returns the model's raw outputs for `X` (one column per class)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = sklearn_support.validate_data(self, X, reset=False)
        return self.model_.predict(X)

    def _process_target(self, y, reset=False):
        target_type = sklearn_support.type_of_target(y, raise_unknown=True)
        if target_type not in ["binary", "multiclass"]:
            raise ValueError(
                f"Only binary and multiclass target types are supported. Target type: {target_type}"
            )
        if reset:
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import OneHotEncoder

            self._target_encoder = make_pipeline(
                TargetReshaper(), OneHotEncoder(sparse_output=False)
            ).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def _more_tags(self):
        return {"poor_score": True}  # scikit-learn < 1.6

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """scikit-learn regressor around a Keras model.

    `predict` returns the model's outputs, 1D when the targets given to `fit` were 1D.

    Args:
        model: A compiled `keras.Model`, or a callable returning one. A model is cloned with
            `keras.models.clone_model` (new weights, same compile settings) before each fit
            from scratch. A callable is called as `model(X=X, y=y, **model_kwargs)` with the
            validated inputs and the encoded targets (one-hot for classifiers).
        warm_start: bool, defaults to `False`. Whether `fit` on an already fitted wrapper
            continues training `model_` from its current weights instead of building a new
            model.
        model_kwargs: dict, defaults to `None`. Keyword arguments passed to `model`, if
            `model` is callable.
        fit_kwargs: dict, defaults to `None`. Keyword arguments passed to `model.fit`. They
            can also be passed to the wrapper's `fit`; those take precedence.

    Attributes:
        model_: The fitted `keras.Model`.
        history_: The `History` returned by `model_.fit`.
        n_features_in_: The number of features seen in `fit`.

    Raises:
        ImportError: When scikit-learn is not installed.

    Example:

    ```python
    def dynamic_model(X, y, loss, layers=[10]):
        inputs = keras.Input(shape=(X.shape[1],))
        hidden = inputs
        for size in layers:
            hidden = keras.layers.Dense(size, activation="relu")(hidden)
        outputs = keras.layers.Dense(y.shape[1] if y.ndim > 1 else 1)(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(loss=loss, optimizer="rmsprop")
        return model

    X, y = sklearn.datasets.make_regression(n_samples=1000, n_features=10)
    est = keras.wrappers.SKLearnRegressor(
        model=dynamic_model, model_kwargs={"loss": "mse", "layers": [20, 20, 20]}
    )
    est.fit(X, y, epochs=5)
    ```
    """

    def _more_tags(self):
        return {"poor_score": True}  # scikit-learn < 1.6

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """scikit-learn transformer around a Keras model: `transform(X)` is `model_.predict(X)`.

    A transformer in scikit-learn's sense (a pipeline step), e.g. an embedding model whose
    outputs feed another estimator.

    Args:
        model: A compiled `keras.Model`, or a callable returning one. A model is cloned with
            `keras.models.clone_model` (new weights, same compile settings) before each fit
            from scratch. A callable is called as `model(X=X, y=y, **model_kwargs)` with the
            validated inputs and the encoded targets (one-hot for classifiers).
        warm_start: bool, defaults to `False`. Whether `fit` on an already fitted wrapper
            continues training `model_` from its current weights instead of building a new
            model.
        model_kwargs: dict, defaults to `None`. Keyword arguments passed to `model`, if
            `model` is callable.
        fit_kwargs: dict, defaults to `None`. Keyword arguments passed to `model.fit`. They
            can also be passed to the wrapper's `fit`; those take precedence.

    Attributes:
        model_: The fitted `keras.Model`.
        history_: The `History` returned by `model_.fit`.
        n_features_in_: The number of features seen in `fit`.

    Raises:
        ImportError: When scikit-learn is not installed.

    Example:

    ```python
    from sklearn.frozen import FrozenEstimator  # scikit-learn >= 1.6
    from sklearn.pipeline import make_pipeline
    from sklearn.ensemble import HistGradientBoostingClassifier

    embed = FrozenEstimator(keras.wrappers.SKLearnTransformer(model=my_model).fit(X, X))
    pipe = make_pipeline(embed, HistGradientBoostingClassifier())
    pipe.fit(X, y)
    ```
    """

    def transform(self, X):
        """Returns the model's outputs for `X`.

        Args:
            X: array-like of shape `(n_samples, n_features)`, the input samples.

        Returns:
            The model's outputs (a NumPy array).
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = sklearn_support.validate_data(self, X, reset=False)
        return self.model_.predict(X)

    def _more_tags(self):
        return {"preserves_dtype": []}  # scikit-learn < 1.6

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
