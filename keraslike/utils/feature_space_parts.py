"""The pieces of `FeatureSpace`: its `Feature` and `Cross` specs, the identity preprocessor of
`"float"` features, their Keras-format serialization, and the column gathering of `adapt`."""

import numpy as np
import torch

from keraslike import layers
from keraslike.layers.layer import Layer
from keraslike.layers.recurrent._serialization import deserialize_layer, serialize_layer
from keraslike.serialization.objects import public_module

_MODULE = "keras.src.layers.preprocessing.feature_space"


@public_module(_MODULE, "TFDIdentity")
class TFDIdentity(Layer):
    """The preprocessor of `"float"` features: returns its input (Keras's `TFDIdentity`)."""

    def call(self, inputs):
        return inputs


def _serialize(obj):
    """Keras's serialized form of a `Feature` or `Cross`."""
    name = type(obj).__name__
    return {"module": _MODULE, "class_name": name, "config": obj.get_config(),
            "registered_name": name}


def _serialize_preprocessor(layer):
    if type(layer) is TFDIdentity:
        return {"module": _MODULE, "class_name": "TFDIdentity", "config": layer.get_config(),
                "registered_name": "TFDIdentity"}
    return serialize_layer(layer)


def _deserialize_preprocessor(config):
    if isinstance(config, dict) and config.get("class_name") == "TFDIdentity":
        return TFDIdentity.from_config(config["config"])
    return deserialize_layer(config)


class Cross:
    """A crossing of features, hashed into `crossing_dim` bins (`FeatureSpace.cross`)."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """A feature: its input dtype, preprocessing layer and `output_mode` (`FeatureSpace.feature`)."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{{'int', 'one_hot', 'float'}}. Received: output_mode={output_mode}"
            )
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_preprocessor(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {"dtype": self.dtype, "preprocessor": _serialize_preprocessor(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _from_dict(config, expected):
    if isinstance(config, dict) and config.get("class_name") == expected.__name__:
        return expected.from_config(config["config"])
    return config


def _cardinality(preprocessor):
    """The number of distinct ids a preprocessor emits (`None` when unknown)."""
    if isinstance(preprocessor, (layers.IntegerLookup, layers.StringLookup)):
        return preprocessor.vocabulary_size()
    if isinstance(preprocessor, layers.CategoryEncoding):
        return preprocessor.num_tokens
    if isinstance(preprocessor, layers.Discretization):
        if preprocessor.bin_boundaries is not None:
            return len(preprocessor.bin_boundaries) + 1
        return preprocessor.num_bins
    if isinstance(preprocessor, (layers.HashedCrossing, layers.Hashing)):
        return preprocessor.num_bins
    return None


def _dummy(dtype):
    return np.array([""]) if dtype == "string" else np.zeros((1,), dtype=dtype)


def _column(values):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    return array.reshape(-1, 1) if array.ndim <= 1 else array


def _collect_columns(dataset, names):
    """`{name: (N, 1) array}` of the features to adapt, from a dict or an iterable of batches."""
    if isinstance(dataset, dict):
        batches = [dataset]
    elif isinstance(dataset, (str, bytes)) or not hasattr(dataset, "__iter__"):
        raise ValueError(
            "`adapt()` can only be called on a dict of arrays/lists or an iterable of such dicts "
            f"(e.g. a DataLoader). Received instead: {dataset} (of type {type(dataset)})"
        )
    else:
        batches = dataset
    parts = {name: [] for name in names}
    for batch in batches:
        if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], dict):
            batch = batch[0]
        if not isinstance(batch, dict):
            raise ValueError(
                "`adapt()` expects batches that are dicts of features. Received a batch of type "
                f"{type(batch)}"
            )
        for name in names:
            if name not in batch:
                raise ValueError(
                    f"FeatureSpace.adapt: the data lacks feature {name!r}. Received keys: "
                    f"{sorted(batch)}"
                )
            parts[name].append(_column(batch[name]))
    return {name: np.concatenate(chunks) for name, chunks in parts.items() if chunks}
