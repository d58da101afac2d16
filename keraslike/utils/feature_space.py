"""`keras.utils.FeatureSpace`: preprocessing and encoding of structured (tabular) data, without
TensorFlow. Each feature gets a preprocessing layer (Normalization, Rescaling, Discretization,
IntegerLookup, StringLookup, Hashing), crosses a HashedCrossing, discrete features a multi-hot
CategoryEncoding; the results are concatenated (or returned as a dict) as torch tensors."""

import numpy as np
import torch
from torch import nn

from keraslike import layers
from keraslike import saving
from keraslike.backend.naming import uniquify
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.input_layer import Input
from keraslike.layers.layer import Layer
from keraslike.serialization import registry
from keraslike.serialization.objects import public_module
from keraslike.utils.feature_space_parts import (
    Cross,
    Feature,
    TFDIdentity,
    _cardinality,
    _collect_columns,
    _dummy,
    _from_dict,
    _serialize,
)

@public_module("keras.utils")
class FeatureSpace(Layer):
    """One-stop utility for preprocessing and encoding structured data.

    Args:
        features: Dict mapping feature names to their type: a string (`"float"`,
            `"float_normalized"`, `"float_rescaled"`, `"float_discretized"`,
            `"integer_categorical"`, `"string_categorical"`, `"integer_hashed"`,
            `"string_hashed"`, with default arguments) or a `FeatureSpace.<type>(...)` feature.
        output_mode: `"concat"` (one float32 vector per sample) or `"dict"` (a dict of encoded
            features, keyed by feature and cross name).
        crosses: Features to cross, e.g. `[("f1", "f2")]` or `FeatureSpace.cross(...)` objects:
            hashed into `crossing_dim` bins.
        crossing_dim: Default number of bins of crosses (32).
        hashing_dim: Default number of bins of `"*_hashed"` features (32).
        num_discretization_bins: Default number of bins of `"float_discretized"` features (32).
        name: Optional name.

    Feature types (constructors): `FeatureSpace.float()`, `float_normalized()`,
    `float_rescaled(scale=1., offset=0.)`, `float_discretized(num_bins, bin_boundaries=None,
    output_mode="one_hot")`, `integer_categorical(max_tokens=None, num_oov_indices=1,
    output_mode="one_hot")`, `string_categorical(...)`, `integer_hashed(num_bins,
    output_mode="one_hot")`, `string_hashed(num_bins, output_mode="one_hot")`, and
    `feature(dtype, preprocessor, output_mode)` for any preprocessing layer.

    Call it on a dict of arrays, lists, tensors or scalars (one entry per feature); the result is
    torch tensors: in `"concat"` mode the encoded features in sorted name order, then the crosses
    in sorted name order. Scalars give one unbatched sample.

    Differences from Keras 3 (which needs TensorFlow here): `adapt` also takes any iterable of
    dict batches (a `DataLoader`, a generator, a list); `get_encoded_features()` returns
    `Input` tensors shaped like the encoded features (build the training model on them and feed
    it `feature_space(raw_data)`); `get_inputs()` is not available (keraslike has no string
    symbolic tensors). `float_discretized(bin_boundaries=...)` works (Keras 3.15 raises).

    Example:

    >>> raw = {"f": [0.0, 0.1, 0.2, 0.3], "s": ["a", "b", "a", "c"], "i": [0, 1, 2, 3]}
    >>> fs = keras.utils.FeatureSpace(
    ...     {"f": "float_normalized", "s": "string_categorical", "i": "integer_categorical"},
    ...     crosses=[("s", "i")], crossing_dim=8)
    >>> fs.adapt(raw)
    >>> fs(raw).shape  # f: 1, i: 5 (OOV + 4 values), s: 4 (OOV + 3), s_X_i: 8
    torch.Size([4, 18])
    """

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or uniquify("float")
        return Feature("float32", TFDIdentity(dtype="float32", name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or uniquify("float_rescaled")
        preprocessor = layers.Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", preprocessor, "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or uniquify("float_normalized")
        return Feature("float32", layers.Normalization(axis=-1, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        name = name or uniquify("float_discretized")
        preprocessor = layers.Discretization(
            num_bins=None if bin_boundaries is not None else num_bins,
            bin_boundaries=bin_boundaries, name=f"{name}_preprocessor")
        return Feature("float32", preprocessor, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                            name=None):
        name = name or uniquify("integer_categorical")
        preprocessor = layers.IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                            num_oov_indices=num_oov_indices)
        return Feature("int32", preprocessor, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                           name=None):
        name = name or uniquify("string_categorical")
        preprocessor = layers.StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                           num_oov_indices=num_oov_indices)
        return Feature("string", preprocessor, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or uniquify("string_hashed")
        return Feature("string", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or uniquify("integer_hashed")
        return Feature("int32", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode)

    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32,
                 hashing_dim=32, num_discretization_bins=32, name=None):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v) for n, v in features.items()}
        self.crosses = []
        for cross in crosses or ():
            cross = _from_dict(cross, Cross)
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError(
                        "When specifying `crosses`, the argument `crossing_dim` (dimensionality "
                        "of the crossing space) should be specified as well."
                    )
                cross = Cross(cross, crossing_dim=crossing_dim)
            unknown = [key for key in cross.feature_names if key not in self.features]
            if unknown:
                raise ValueError(
                    "All features referenced in the `crosses` argument should be present in the "
                    f"`features` dict. Received unknown features: {unknown} in cross "
                    f"{cross.feature_names}"
                )
            self.crosses.append(cross)
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.output_mode = output_mode
        self.preprocessors = nn.ModuleDict(
            {n: feature.preprocessor for n, feature in self.features.items()})
        self.crossers = nn.ModuleDict(
            {c.name: layers.HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses})
        self.one_hot_encoders = nn.ModuleDict()
        self.encoded_features = None
        self._is_adapted = False
        self._sublayers_built = False
        self._names = sorted(self.features) + sorted(self.crosses_by_name)

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _from_dict(feature, Feature)
        constructors = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                name=name, num_bins=self.num_discretization_bins),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if not isinstance(feature, str) or feature not in constructors:
            raise ValueError(
                f"Invalid feature type: {feature!r} for feature {name!r}. Expected one of "
                f"{sorted(constructors)} or a `FeatureSpace.feature(...)`."
            )
        return constructors[feature]()

    # ------------------------------------------------------------------ adapting

    def _list_adaptable_preprocessors(self):
        names = []
        for name, preprocessor in self.preprocessors.items():
            if isinstance(preprocessor, layers.Normalization) and preprocessor.input_mean is not None:
                continue
            if getattr(preprocessor, "_has_input_vocabulary", False):
                continue
            if isinstance(preprocessor, layers.Discretization) and preprocessor.num_bins is None:
                continue
            if hasattr(preprocessor, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Adapts every adaptable preprocessor on its feature.

        Args:
            dataset: A dict of arrays/lists (one per feature), or an iterable of such dicts
                (a `DataLoader`, a generator, a list of batches; `(features, labels)` batches
                use their features).
        """
        columns = _collect_columns(dataset, self._list_adaptable_preprocessors())
        for name, column in columns.items():
            self.preprocessors[name].adapt(column)
        self._is_adapted = True
        self._finish_build()

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can start "
                    "using it."
                )
            self._is_adapted = True

    def _finish_build(self):
        """Creates the multi-hot encoders (their sizes known once adapted) and checks concat."""
        if self._sublayers_built:
            return
        self._check_if_adapted()
        for name in self._names:
            spec = self.features.get(name) or self.crosses_by_name[name]
            preprocessor = self.preprocessors[name] if name in self.features else self.crossers[name]
            if spec.output_mode == "one_hot":
                cardinality = _cardinality(preprocessor)
                if cardinality is None:
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                        "standard feature and the dimensionality of its output space is not "
                        "known, thus it cannot be one-hot encoded. Try using `output_mode='int'`."
                    )
                self.one_hot_encoders[name] = layers.CategoryEncoding(
                    num_tokens=cardinality, output_mode="multi_hot")
            elif spec.output_mode == "int" and self.output_mode == "concat":
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been encoded "
                    "(it has an integer dtype, `output_mode='int'`). Consider using "
                    "`output_mode='dict'`."
                )
        self._sublayers_built = True
        self.built = True

    # ------------------------------------------------------------------ calling

    def _convert(self, name, value):
        dtype = self.features[name].dtype
        if dtype == "string":
            array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
            return np.asarray(array)
        if isinstance(value, torch.Tensor):
            tensor = value
        else:
            array = np.asarray(value)
            if array.dtype.kind in ("U", "S", "O"):
                raise ValueError(
                    f"FeatureSpace: feature {name!r} is declared {dtype!r} but received strings "
                    f"(dtype {array.dtype}). Received: {name}={value!r}"
                )
            tensor = torch.as_tensor(array)
        if dtype.startswith("float"):
            tensor = tensor.to(torch_dtype(dtype))
        return tensor

    def __call__(self, data):
        self._finish_build()
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data={data} "
                f"(of type {type(data)})"
            )
        missing = [name for name in self.features if name not in data]
        if missing:
            raise ValueError(
                f"FeatureSpace: the input dict lacks the features {missing}. "
                f"Received keys: {sorted(data)}"
            )
        rebatched = False
        inputs = {}
        for name in self.features:
            x = self._convert(name, data[name])
            if x.ndim == 0:
                x, rebatched = x.reshape(1, 1), True
            elif x.ndim == 1:
                x = x[:, None]
            inputs[name] = x
        encoded = {name: self.preprocessors[name](x) for name, x in inputs.items()}
        for cross in self.crosses:
            encoded[cross.name] = self.crossers[cross.name](
                tuple(encoded[n] for n in cross.feature_names))
        outputs = {}
        for name in self._names:
            x = encoded[name]
            if name in self.one_hot_encoders:
                if x.is_floating_point():
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor "
                        f"should return an integer dtype. Instead it returns a {x.dtype} dtype."
                    )
                x = self.one_hot_encoders[name](x)
            outputs[name] = x
        if self.output_mode == "dict":
            if rebatched:
                outputs = {n: x[0] if x.ndim == 2 and x.shape[0] == 1 else x
                           for n, x in outputs.items()}
            return outputs
        for name, x in outputs.items():
            if not x.is_floating_point():
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been encoded "
                    f"(it has dtype {x.dtype}). Consider using `output_mode='dict'`."
                )
        merged = torch.cat([x.to(torch.float32) for x in outputs.values()], dim=-1)
        return merged[0] if rebatched else merged

    def get_encoded_features(self):
        """Symbolic `Input` tensors shaped like the encoded features (concat: one tensor, dict:
        a dict): the inputs of a training model fed with `feature_space(raw_data)`."""
        self._finish_build()
        if self.encoded_features is None:
            sample = self({name: _dummy(feature.dtype) for name, feature in self.features.items()})
            if self.output_mode == "concat":
                self.encoded_features = Input(shape=tuple(sample.shape[1:]),
                                              name="encoded_features")
            else:
                self.encoded_features = {
                    name: Input(shape=tuple(x.shape[1:]), dtype=str(x.dtype).replace("torch.", ""),
                                name=name)
                    for name, x in sample.items()
                }
        return self.encoded_features

    def get_inputs(self):
        """Not available: Keras's symbolic inputs of raw features include string tensors."""
        raise NotImplementedError(
            "FeatureSpace.get_inputs() is not available in keraslike: its symbolic tensors "
            "cannot hold strings. Build the model on `get_encoded_features()` and call it on "
            "`feature_space(raw_features)`."
        )

    # ------------------------------------------------------------------ config and saving

    def get_config(self):
        return {
            "features": {name: _serialize(feature) for name, feature in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [_serialize(cross) for cross in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return {name: feature.preprocessor.get_build_config()
                for name, feature in self.features.items()}

    def build_from_config(self, config):
        for name, build_config in (config or {}).items():
            preprocessor = self.features[name].preprocessor
            if not preprocessor.built and build_config:
                preprocessor.build_from_config(build_config)
        self._is_adapted = True
        self._finish_build()

    def save(self, filepath):
        """Saves the FeatureSpace (config, adapted vocabularies, statistics) to one file;
        `keras.saving.load_model` reloads it."""
        saving.save_model(self, filepath)


registry.register_builtin_layers({"FeatureSpace": FeatureSpace, "TFDIdentity": TFDIdentity})
