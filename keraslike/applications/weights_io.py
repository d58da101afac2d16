"""Reads Keras `.h5` weight files into a model, matching layers by name (no pickle, no code).

Two layouts exist, and both are read:

- **Legacy (tf.keras / Keras 2, and Keras's pretrained application files).** The root (or its
  `model_weights` group, in a full-model `.h5`) lists `layer_names` in an attribute; each layer
  group lists its `weight_names` (e.g. `block1_conv1/kernel:0`), and each name is a dataset path
  inside that group (`block1_conv1/block1_conv1/kernel:0`). The names' order is Keras's weight
  order. Layers are matched by name; when the names differ but the counts agree, by position
  among the layers with weights (Keras's own rule for this layout).
- **Keras 3 (`model.save_weights("x.weights.h5")`).** `layers/<key>/vars/<i>`, with `<key>`
  the snake-cased class name numbered in `model.layers` order (`conv2d`, `conv2d_1`, ...) and
  the layer's real name in the `vars` group's `name` attribute (recent Keras writes it). Layers
  are matched by that name when every group has it and the names agree, else by the class-name
  keys (Keras 3's own rule).

Arrays are in Keras's layouts; `Layer.set_weights` converts them to the torch layouts inside.
`h5py` is imported only when a file is read.
"""

import os

from keraslike.backend.naming import to_snake_case


def _import_h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is installed with the test extra
        raise ImportError("Reading Keras `.h5` weight files requires `h5py` (`pip install h5py`).") from e
    return h5py


def _decode(names):
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in names]


def _read_attr_list(group, name):
    """Reads an attribute that Keras may have split into `name0`, `name1`, ... chunks."""
    if name in group.attrs:
        return _decode(group.attrs[name])
    values, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        values.extend(_decode(group.attrs[f"{name}{chunk}"]))
        chunk += 1
    return values


def _layers_with_weights(model):
    return [layer for layer in model.layers if layer._stored_weights()]


def _assign(model, layer, values, filepath):
    try:
        layer.set_weights(values)
    except ValueError as e:
        raise ValueError(
            f"Cannot load the weights file {filepath!r} into model {model.name!r}: {e} "
            "(Does the file belong to this architecture, with the same `include_top` and `classes`?)"
        ) from None


def _check_all_matched(model, wanted, available, filepath):
    missing = [name for name in wanted if name not in available]
    extra = [name for name in available if name not in wanted]
    if missing or extra:
        raise ValueError(
            f"The weights file {filepath!r} does not match model {model.name!r}: "
            + (f"no weights in the file for layers {missing}. " if missing else "")
            + (f"the file has weights for layers the model lacks: {extra}. " if extra else "")
            + "(Does the file belong to this architecture, with the same `include_top` and `classes`?)"
        )


def _load_legacy(model, root, filepath):
    group = root["model_weights"] if "model_weights" in root else root
    file_layers = {}
    for name in _read_attr_list(group, "layer_names"):
        weight_names = _read_attr_list(group[name], "weight_names")
        if weight_names:
            file_layers[name] = (group[name], weight_names)
    layers = _layers_with_weights(model)
    wanted = [layer.name for layer in layers]
    if set(wanted) != set(file_layers) and len(wanted) == len(file_layers):
        # Names differ (e.g. `conv2d_7` in a second model built in one session): Keras itself
        # loads this layout by position among the layers that have weights, so do that.
        for layer, (layer_group, weight_names) in zip(layers, file_layers.values()):
            _assign(model, layer, [layer_group[w][()] for w in weight_names], filepath)
        return
    _check_all_matched(model, wanted, file_layers, filepath)
    for layer in layers:
        layer_group, weight_names = file_layers[layer.name]
        _assign(model, layer, [layer_group[w][()] for w in weight_names], filepath)


def _keras3_values(layer, group):
    """The arrays of one layer's group, in Keras order; nested models recurse into `layers/`."""
    values = [group["vars"][str(i)][()] for i in range(len(group["vars"]))] if "vars" in group else []
    sublayers = getattr(layer, "layers", None)
    if sublayers is not None and "layers" in group:
        keys = _class_keys(sublayers)
        for sub in sublayers:
            if sub._stored_weights():
                values.extend(_keras3_values(sub, group["layers"][keys[id(sub)]]))
    return values


def _class_keys(layers):
    """Keras 3's keys for a list of layers: `conv2d`, `conv2d_1`, ... in list order."""
    used, keys = {}, {}
    for layer in layers:
        base = to_snake_case(type(layer).__name__)
        if base in used:
            used[base] += 1
            keys[id(layer)] = f"{base}_{used[base]}"
        else:
            used[base] = 0
            keys[id(layer)] = base
    return keys


def _has_values(group):
    return bool(len(group.get("vars", ()))) or "layers" in group


def _by_class_keys(model, groups, layers):
    """Keras 3's own matching: `conv2d`, `conv2d_1`, ... keys in `model.layers` order."""
    keys = _class_keys(model.layers)
    by_layer = {layer.name: keys[id(layer)] if keys[id(layer)] in groups else None for layer in layers}
    in_file = {}
    for key in groups:
        if _has_values(groups[key]):
            in_file[next((n for n, k in by_layer.items() if k == key), key)] = key
    return by_layer, in_file


def _load_keras3(model, root, filepath):
    groups = root["layers"]
    names = {}
    for key in groups:
        vars_group = groups[key].get("vars")
        name = vars_group.attrs.get("name") if vars_group is not None else None
        if name is None:
            names = None
            break
        names[name.decode("utf8") if isinstance(name, bytes) else str(name)] = key
    layers = _layers_with_weights(model)
    wanted = [layer.name for layer in layers]
    if names is not None:
        by_layer = {layer.name: names.get(layer.name) for layer in layers}
        in_file = {name: key for name, key in names.items() if _has_values(groups[key])}
        if set(in_file) != set(wanted):
            # Names differ (e.g. a second model of the same architecture in one session gets
            # `normalization_1`): Keras itself matches by the class-name keys, so do that when
            # it accounts for every layer.
            by_keys, in_file_keys = _by_class_keys(model, groups, layers)
            if set(in_file_keys) == set(wanted):
                by_layer, in_file = by_keys, in_file_keys
    else:  # older Keras 3 files carry no names: match the class-name keys instead
        by_layer, in_file = _by_class_keys(model, groups, layers)
    _check_all_matched(model, wanted, in_file, filepath)
    for layer in layers:
        _assign(model, layer, _keras3_values(layer, groups[by_layer[layer.name]]), filepath)


def load_weights(model, filepath):
    """Loads a Keras `.h5` weights file (legacy or Keras 3 layout) into `model`, by layer name.

    Args:
        model: A built keraslike model.
        filepath: Path to a `.h5` file written by Keras (`save_weights`, or a pretrained
            application file such as `vgg16_weights_tf_dim_ordering_tf_kernels.h5`).

    Raises:
        ValueError: When the file is not a Keras weights file, a model layer has no weights in
            the file, the file has weights for a layer the model lacks, or a shape differs.

    Example:

    ```python
    model = keras.applications.VGG16(weights=None)
    load_weights(model, "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    ```
    """
    h5py = _import_h5py()
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise ValueError(f"No weights file found at {filepath!r}.")
    with h5py.File(filepath, "r") as root:
        if "layers" in root and isinstance(root["layers"], h5py.Group) and "layer_names" not in root.attrs:
            _load_keras3(model, root, filepath)
        elif "model_weights" in root or "layer_names" in root.attrs or "layer_names0" in root.attrs:
            _load_legacy(model, root, filepath)
        else:
            raise ValueError(
                f"{filepath!r} is not a Keras weights file: expected a `layers` group (Keras 3 "
                "`.weights.h5`) or a `layer_names` attribute (legacy `.h5`)."
            )
