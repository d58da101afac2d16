"""Helpers shared by the ImageNet models: preprocessing, decoding, input-shape checks, local files.

Nothing here touches the network. Pretrained weights and the class index are read from Keras's
cache folder (`$KERAS_HOME/models`, else `~/.keras/models`) under Keras's own file names, so a
file Keras downloaded once serves both libraries; a missing file is a `ValueError` that says
which file to put where.
"""

import json
import os
import warnings

import numpy as np
import torch

from keraslike import activations, ops
from keraslike.applications.weights_io import load_weights
from keraslike.backend import config
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers import Input

CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR order
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CLASS_INDEX_CACHE = {}  # path -> (mtime, index)


# ---------------------------------------------------------------------- local files


def model_dirs():
    """Returns the folders searched for pretrained files, in order.

    `$KERAS_HOME/models` when `KERAS_HOME` is set, then `~/.keras/models` (Keras's default cache).
    """
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(os.path.join(os.path.expanduser(os.environ["KERAS_HOME"]), "models"))
    dirs.append(os.path.join(os.path.expanduser("~"), ".keras", "models"))
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_model_file(file_name, what, url=None):
    """Returns the path of `file_name` in Keras's model cache, or raises a ValueError.

    Args:
        file_name: Keras's file name, e.g. `"vgg16_weights_tf_dim_ordering_tf_kernels.h5"`.
        what: What the file is for, for the error message (e.g. `"VGG16's ImageNet weights"`).
        url: Where Keras downloads the file from, quoted in the error message.

    Raises:
        ValueError: When the file is in none of `model_dirs()`. keraslike never downloads.
    """
    dirs = model_dirs()
    for d in dirs:
        path = os.path.join(d, file_name)
        if os.path.isfile(path):
            return path
    source = f" (Keras downloads it from {url})" if url else ""
    raise ValueError(
        f"{what} need the file '{file_name}'{source}, and keraslike does not download files. "
        f"Put the file in {dirs[0]!r}"
        + (f" or {dirs[1]!r}" if len(dirs) > 1 else "")
        + " (set the KERAS_HOME environment variable to use another folder). "
        f"Searched: {[os.path.join(d, file_name) for d in dirs]}"
    )


def check_weights_argument(weights, include_top, classes):
    """Validates the `weights` and `classes` arguments the way Keras's applications do."""
    is_file = isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)
    if not (weights in {"imagenet", None} or is_file):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
            f"Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
            f"Received classes={classes}"
        )


def load_model_weights(model, weights, imagenet_path=None):
    """Loads `weights` (`"imagenet"`, a path, or `None`) into a freshly built application model.

    Args:
        model: The built model.
        weights: `"imagenet"`, `None` or a path to a Keras `.h5` / `.weights.h5` file.
        imagenet_path: The resolved local path of the ImageNet file (for `weights="imagenet"`).
    """
    if weights == "imagenet":
        load_weights(model, imagenet_path)
    elif weights is not None:
        load_weights(model, os.fspath(weights))


# ---------------------------------------------------------------------- model construction


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """Computes and validates a model's input shape (Keras's `obtain_input_shape`).

    Args:
        input_shape: `None` (the default shape is used) or a user-given 3-tuple.
        default_size: The model's default width/height.
        min_size: The smallest width/height the model accepts.
        data_format: `"channels_last"` or `"channels_first"`.
        require_flatten: Whether the model ends in a classifier that needs a static shape.
        weights: `None`, `"imagenet"` or a path; ImageNet weights require 3 channels.

    Returns:
        The input shape, a 3-tuple that may hold `None` sizes.

    Raises:
        ValueError: For a shape that is not three integers, has the wrong number of channels
            for ImageNet weights, is smaller than `min_size`, or is not static when required.
    """
    if input_shape is not None:
        input_shape = tuple(input_shape)
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an "
                f"input_shape with {channels} input channels.",
                stacklevel=3,
            )
        if channels_first:
            default_shape = (input_shape[0], default_size, default_size)
        else:
            default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)

    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                f"should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape

    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(
                f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}"
            )
        channels = input_shape[0] if channels_first else input_shape[-1]
        rows, cols = input_shape[1:] if channels_first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)

    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def image_input(input_tensor, input_shape):
    """Returns the image input tensor: `input_tensor` when given, else a new `Input`."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(
            "`input_tensor` must be a KerasTensor (the output of `keras.Input()` or of a layer "
            f"called on one). Received: input_tensor of type {type(input_tensor)}"
        )
    return input_tensor


def get_source_inputs(tensor):
    """Returns the `Input` tensors that `tensor` was computed from, in first-found order."""
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        history = getattr(t, "_keras_history", None)
        if history is None:
            continue
        op, node_index, _ = history
        node = op._inbound_nodes[node_index]
        if node.is_input:
            if id(t) not in seen:
                seen.add(id(t))
                found.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return found


def model_inputs(input_tensor, img_input):
    """The inputs of the application model: the sources of `input_tensor`, else `img_input`."""
    if input_tensor is None:
        return img_input
    sources = get_source_inputs(input_tensor)
    return sources[0] if len(sources) == 1 else sources


def correct_pad(inputs, kernel_size):
    """Returns the zero padding that makes a strided 'valid' conv match TensorFlow's 'same'.

    Args:
        inputs: The symbolic input tensor (its spatial sizes decide the padding).
        kernel_size: An integer or a pair of integers.

    Returns:
        `((top, bottom), (left, right))`.
    """
    img_dim = 2 if config.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim : img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Only `None` and `"softmax"` fit pretrained classifier weights (Keras's rule)."""
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in (activations.get("softmax"), activations.get(None)):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the `classifier_activation` "
            "argument when using pretrained weights, with `include_top=True`; Received: "
            f"classifier_activation={classifier_activation}"
        )


def check_pooling(pooling):
    """Rejects a `pooling` value other than `None`, `"avg"` or `"max"` (Keras ignores it silently)."""
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"`pooling` must be one of None, 'avg' or 'max'. Received: pooling={pooling!r}")


# ---------------------------------------------------------------------- preprocessing


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (Keras's `imagenet_utils.preprocess_input`).

    Args:
        x: A float or integer NumPy array, torch tensor or KerasTensor, 3D or 4D with 3 color
            channels and values in [0, 255]. A floating NumPy array is modified in place, as in
            Keras (pass `numpy.copy(x)` to avoid that); a torch tensor is never modified.
            Unlike Keras, a NumPy result is always C-contiguous (ready for `torch.as_tensor`).
        data_format: `"channels_last"` or `"channels_first"`; `None` uses the global setting.
        mode: One of
            - `"caffe"`: RGB to BGR, then each channel minus its ImageNet mean, no scaling
              (VGG, ResNet);
            - `"tf"`: scales to [-1, 1] (MobileNetV2);
            - `"torch"`: scales to [0, 1], then normalizes each channel with ImageNet's mean
              and standard deviation (torchvision's models).

    Returns:
        The preprocessed images: NumPy in, NumPy out (float32 for integer input); a tensor in,
        a tensor out.

    Raises:
        ValueError: For an unknown `mode` or `data_format`.

    Example:

    ```python
    x = np.random.uniform(0, 255, (1, 224, 224, 3)).astype("float32")
    x = keras.applications.vgg16.preprocess_input(x)
    ```
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _preprocess_numpy(x, data_format, mode):
    # Keras's NumPy path, operation for operation (in place for float input).
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        if data_format == "channels_first":
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
        mean, std = _CAFFE_MEAN, None
    for c in range(3):
        if data_format == "channels_first":
            index = (c,) if x.ndim == 3 else (slice(None), c)
        else:
            index = (Ellipsis, c)
        x[index] -= mean[c]
        if std is not None:
            x[index] /= std[c]
    # Keras returns the reversed (negative-stride) view; torch cannot wrap that without a copy.
    return np.ascontiguousarray(x)


def _preprocess_tensor(x, data_format, mode):
    if not isinstance(x, KerasTensor):
        x = torch.as_tensor(x)
        if not x.is_floating_point():
            x = x.to(getattr(torch, config.floatx()))
    if mode == "tf":
        return x / 127.5 - 1.0
    ndim = len(x.shape)
    if data_format == "channels_first":
        channel_axis = 0 if ndim == 3 else 1
    else:
        channel_axis = ndim - 1
    prefix = (slice(None),) * channel_axis
    # Per-channel arithmetic with Python scalars: no constant tensor that would be pinned to
    # one device (a model built from this runs on CUDA too); the float32 results equal Keras's.
    if mode == "torch":
        x = x / 255.0
        channels = [(x[prefix + (c,)] - _TORCH_MEAN[c]) / _TORCH_STD[c] for c in range(3)]
    else:
        channels = [x[prefix + (2 - c,)] - _CAFFE_MEAN[c] for c in range(3)]  # RGB -> BGR
    return ops.stack(channels, axis=channel_axis)


# ---------------------------------------------------------------------- decoding


def _load_class_index():
    path = find_model_file(CLASS_INDEX_FILE, "`decode_predictions`", CLASS_INDEX_URL)
    mtime = os.path.getmtime(path)
    cached = _CLASS_INDEX_CACHE.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    _CLASS_INDEX_CACHE[path] = (mtime, index)
    return index


def decode_predictions(preds, top=5):
    """Decodes the predictions of an ImageNet model into `(class_name, description, score)`.

    The class names come from Keras's `imagenet_class_index.json`, read from
    `$KERAS_HOME/models` or `~/.keras/models` (never downloaded).

    Args:
        preds: A batch of predictions, shape `(samples, 1000)` (NumPy array or tensor).
        top: How many of the best guesses to return per sample.

    Returns:
        One list per sample of `(class_name, class_description, score)` tuples, best first.

    Raises:
        ValueError: For predictions not of shape `(samples, 1000)`, or when the class index
            file is missing.

    Example:

    ```python
    preds = model.predict(x)
    keras.applications.vgg16.decode_predictions(preds, top=3)[0]
    # [('n02504458', 'African_elephant', 0.82), ...]
    ```
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    index = _load_class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results
