"""Keras 3's weights layout in HDF5 (`.weights.h5`, and `model.weights.h5` inside `.keras`).

Keras walks a model and writes each layer's own variables, in Keras's layouts and order, as
datasets `0`, `1`, ... of a group `<path>/vars` (with the layer's name as an attribute):

    vars                                   (the model's own, usually empty)
    layers/dense/vars/0, 1                 (model.layers, keyed by the snake-case class name,
    layers/dense_1/vars/0, 1                made unique per list: dense, dense_1, ...)
    layers/functional/layers/conv2d/...    (a nested functional model)
    layers/lstm/cell/vars/0, 1, 2          (sublayers, keyed by their attribute name)
    optimizer/vars/0 .. n                  (iteration, learning_rate, then the slots)

A layer reachable twice (shared) is written once, at the first path. This module reproduces that
walk over keraslike models, converting each weight between torch and Keras layouts through the
layer's declared `Layout`. h5py is an optional dependency, imported only here, on use.
"""

import math
import warnings

import numpy as np
import torch
from torch import nn

from keraslike.backend.naming import to_snake_case
from keraslike.layers.layer import Layer
from keraslike.saving import h5_tensors, materialize
from keraslike.saving.errors import LoadFailures, SavedFileError
from keraslike.serialization import registry
from keraslike.serialization.keras_objects import is_functional


_BOMB_FLOOR = 1 << 30  # 1 GiB: larger datasets must not expand more than 1000x (Keras: 4 GiB)
_BOMB_RATIO = 1000


def import_h5py():
    """Returns the h5py module, or raises ImportError saying how to install it."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is installed in the test environment
        raise ImportError(
            "Reading and writing Keras `.h5` / `.keras` files needs h5py: `pip install h5py` "
            "(or `pip install keraslike[h5]`)."
        ) from e
    return h5py


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _keras_class_name(layer):
    if is_functional(layer):
        return "Functional"
    return type(layer).__name__


class _LayersList(list):
    """A subclassed model's `layers`, as one of the children `_children` sorts by name."""


def _children(layer):
    """(attribute path, child layers or None, container?) in Keras's visiting order."""
    if registry.is_builtin_subclass(type(layer), "Sequential") or getattr(
        layer, "_is_graph_network", False
    ):
        return [("layers", layer.layers)]
    items = []
    modules = list(layer._modules.items())
    if registry.is_builtin_subclass(type(layer), "Model"):
        # Keras walks a subclassed model's attributes by name, its `layers` list included: a
        # sublayer held by an attribute named after "layers" (`self.zz`) was met in that list
        # first and is filed as `layers/<class>[_n]`, not under its attribute.
        modules.append(("layers", _LayersList(layer.layers)))
    for attr, module in sorted(modules, key=lambda kv: _name_key(kv[0])):
        if isinstance(module, _LayersList):
            items.append((attr, list(module)))
        elif isinstance(module, Layer):
            items.append((attr, module))
        elif isinstance(module, (nn.ModuleList, nn.Sequential, nn.ModuleDict)):
            values = list(module.values()) if isinstance(module, nn.ModuleDict) else list(module)
            container = layer.__dict__.get(attr)
            if isinstance(container, (list, dict)):
                # A list or dict attribute tracking its layers (`layers/tracked_containers.py`):
                # Keras files name them in the container's order, which `insert` can make
                # differ from the order they were added (the weights' order).
                values = list(container.values() if isinstance(container, dict) else container)
            items.append((attr, [m for m in values if isinstance(m, Layer)]))
    return items


def walk_layers(model, every_path=False):
    """Yields `(h5 path, layer)` for every layer Keras saves, in Keras's order, each layer once
    (at the path Keras writes it to); with `every_path`, also each later path it is reached at
    (another attribute holding it), which `file_paths` may find in a file instead."""
    visited = set()

    def visit(layer, path):
        key = (id(layer), path) if every_path else id(layer)
        if key in visited:
            return
        visited.add(key)
        yield path, layer
        for attr, child in _children(layer):
            child_path = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                used = {}
                for item in child:
                    name = _unique(to_snake_case(_keras_class_name(item)), used)
                    yield from visit(item, f"{child_path}/{name}")
            else:
                yield from visit(child, child_path)

    yield from visit(model, "")


def file_paths(f, model):
    """`(h5 path, layer)` for every layer of `model`, each at the first path it is reached at
    whose weights group is in the open file `f`, or else at Keras's path (reported missing).

    Keras's loader tries a layer again at each later path while loading it fails, so a file
    filing a sublayer under one of its other attributes loads: one written before keraslike
    followed Keras's walk through a subclassed model's `layers` list, say."""
    paths = {}
    for path, layer in walk_layers(model, every_path=True):
        paths.setdefault(id(layer), (layer, []))[1].append(path)
    for layer, candidates in paths.values():
        found = next((p for p in candidates if _vars_path(p) in f), candidates[0])
        yield found, layer


def own_weights(layer):
    """The layer's own `(spec, tensor)` pairs in Keras's order (trainable first), the
    `keras.Variable`s it holds included, as Keras's files hold them."""
    return [(s, layer._find_tensor(s.attr)) for s in layer._own_weight_specs(keras_tracked_only=True)]


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def weight_groups(path, layer):
    """`(vars group path, name attribute, weights)` for the layer's own weights, as Keras nests them.

    Usually one group, `<path>/vars`. Built-in recurrent layers keep their cell's weights
    themselves (under `nn.LSTM`'s names) while Keras keeps them on the cell: those weights go to
    `<path>/cell/vars`, after an empty `<path>/vars`, as Keras writes them.
    """
    weights = own_weights(layer)
    cell = layer.__dict__.get("cell")
    if weights and isinstance(cell, Layer) and not any(m is cell for m in layer._modules.values()):
        cell_path = f"{path}/cell" if path else "cell"
        return [(_vars_path(path), layer.name, []), (_vars_path(cell_path), cell.name, weights)]
    return [(_vars_path(path), layer.name, weights)]


def optimizer_arrays(model, optimizer):
    """The optimizer's variables in Keras's order and layouts (slots like their weights)."""
    layouts = {}
    for layer, spec in model._weight_entries():
        layouts[id(layer._find_tensor(spec.attr))] = spec.layout
    arrays = []
    for tensor, variable in optimizer._keras_state():
        if variable is not None and id(variable) in layouts:
            # slots hold per-entry statistics of gradients: reordered like the weight, without
            # an affine layout's constant (an LSTM's `bias_hh`)
            tensor = layouts[id(variable)].delta_to_keras(tensor.detach())
        arrays.append(tensor)
    return arrays


def _own_store_hooks(layer):
    """The layer's `save_own_variables`/`load_own_variables` (Keras's protocol), when it has them.

    Layers whose Keras file layout differs from their weights (a LoRA kernel stored merged, a
    quantized kernel stored before the bias) define both; others use `own_weights`. A layer
    defining only one of them (a user's) gets it called, as Keras does, with Keras's default for
    the other: its own weights in order, `"0"`, `"1"`, ...
    """
    load = getattr(layer, "load_own_variables", None)
    save = getattr(layer, "save_own_variables", None)
    if load is None and save is None:
        return None
    if load is None:

        def load(store):
            weights = own_weights(layer)
            if len(store) != len(weights):
                raise ValueError(
                    f"Layer {layer.name!r} expected {len(weights)} variables, but received "
                    f"{len(store)} variables during loading. "
                    f"Expected: {[spec.name for spec, _ in weights]}"
                )
            for i, (spec, tensor) in enumerate(weights):
                value = spec.layout.to_torch(torch.as_tensor(store[str(i)]))
                if tuple(value.shape) != tuple(tensor.shape):
                    raise ValueError(
                        f"Layer {layer.name!r} weight {spec.name!r} has shape "
                        f"{tuple(spec.layout.keras_shape(tensor.shape))}, the stored value "
                        f"{tuple(torch.as_tensor(store[str(i)]).shape)}."
                    )
                tensor.copy_(value.to(tensor.device, tensor.dtype))

    if save is None:

        def save(store):
            store.update(_default_store_values(own_weights(layer)))

    return save, load


def _default_store_values(weights):
    """`(key, value)` pairs as Keras's default `save_own_variables` writes them: `"0"`, `"1"`, ...
    in Keras's layouts."""
    return [(str(i), spec.layout.to_keras(tensor.detach())) for i, (spec, tensor) in enumerate(weights)]


def _keras_values(layer, weights):
    hooks = _own_store_hooks(layer)
    if hooks is None or not weights:
        return _default_store_values(weights)
    store = {}
    hooks[0](store)
    # The store's own keys, as Keras writes them ("0", "1", ... or any name, e.g. "variables").
    return [(key, torch.as_tensor(store[key])) for key in sorted(store, key=_store_order)]


def _store_order(key):
    """Index keys in numeric order, then named keys by name."""
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def materialized(skeleton):
    """The checked `meta` skeleton of a loaded model given uninitialized memory, or None when it
    cannot be.

    Every weight is then filled from the file, so the initializers' draws are skipped; a model
    keeping tensors the file does not hold (non-persistent buffers, ...) is rebuilt instead.
    """
    provided = set()
    for path, layer in walk_layers(skeleton):
        for _, _, weights in weight_groups(path, layer):
            provided.update(id(tensor) for _, tensor in weights)
    ok, _ = materialize.check_materializable(skeleton, provided)
    if not ok:
        return None
    materialize.materialize(skeleton)
    return skeleton


def write_weights(f, model, include_optimizer=True):
    """Writes `model`'s weights (and its optimizer's state) into the open h5py file `f`."""
    written = set()
    for path, layer in walk_layers(model):
        for vars_path, name, weights in weight_groups(path, layer):
            group = f.create_group(vars_path)
            group.attrs["name"] = name
            for key, value in _keras_values(layer, weights):
                h5_tensors.write_tensor(group, key, value)
            written.update(id(tensor) for _, tensor in weights)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and hasattr(optimizer, "_variables"):
        group = f.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, tensor in enumerate(optimizer_arrays(model, optimizer)):
            h5_tensors.write_tensor(group, str(i), tensor)
    # Buffers outside Keras's weights are usually derived state (an LSTM's `bias_hh_l0` is
    # folded into Keras's bias); parameters outside them (plain torch modules) would be lost.
    left_out = [k for k, p in model.named_parameters() if id(p) not in written]
    if left_out:
        warnings.warn(
            f"Model {model.name!r} has parameters that are not Keras weights (plain torch "
            f"modules): {left_out}. The Keras format cannot store them; save with "
            "`.safetensors` to keep them.",
            stacklevel=3,
        )


def _safe_group(f, path, h5py):
    node = f
    for part in path.split("/"):
        if part not in node:
            return None
        kind = node.get(part, getclass=True, getlink=True)
        if kind in (h5py.SoftLink, h5py.ExternalLink):
            raise ValueError(f"h5 link at {path!r} refused (links are not allowed in weight files).")
        node = node[part]
        if not isinstance(node, h5py.Group):
            return None
    return node


def checked_dataset(dataset, h5py, filepath, label=None):
    """`dataset` once it is known to be a plain numeric dataset that is no decompression bomb.

    Only metadata is read (shape, dtype, stored size): nothing is allocated for its values.
    """
    label = label or dataset.name
    if not isinstance(dataset, h5py.Dataset) or dataset.external or dataset.is_virtual:
        raise SavedFileError(filepath, f"weight {label!r} is not a plain dataset.")
    if dataset.dtype.kind not in "biuf":
        raise SavedFileError(
            filepath,
            f"weight {label!r} holds {dataset.dtype} values (strings or objects), not numbers.",
        )
    declared = math.prod(dataset.shape) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > _BOMB_FLOOR and declared > _BOMB_RATIO * stored:
        raise SavedFileError(
            filepath,
            f"weight {label!r} declares {declared} bytes but stores only {stored}: refusing a "
            "decompression bomb.",
        )
    return dataset


def _open_dataset(group, key, h5py, filepath):
    kind = group.get(key, getclass=True, getlink=True)
    if kind in (h5py.SoftLink, h5py.ExternalLink):
        raise SavedFileError(filepath, f"{group.name}/{key} is a link; links are refused.")
    return checked_dataset(group[key], h5py, filepath, f"{group.name}/{key}")


def _read_dataset(group, key, h5py, filepath, expected_shape=None):
    """The dataset's values as a tensor; `None` when its shape is not `expected_shape`.

    The shape is compared before any value is read.
    """
    dataset = _open_dataset(group, key, h5py, filepath)
    if expected_shape is not None and tuple(dataset.shape) != tuple(expected_shape):
        return None
    return _dataset_values(dataset)


def _dataset_values(dataset):
    """A checked dataset's values as a tensor (bfloat16 when the file says so)."""
    value = dataset[()]
    if dataset.attrs.get("dtype") == "bfloat16":
        return torch.as_tensor(np.asarray(value, dtype=np.float32)).to(torch.bfloat16)
    return torch.as_tensor(np.asarray(value))


class _Report:
    """Collects missing, unexpected and mis-shaped weights; raises or warns once at the end."""

    def __init__(self, filepath):
        self.filepath = filepath
        self.missing, self.unexpected, self.mismatched, self.counts = [], [], [], []

    def count_differs(self, label, layer, names, received):
        """A layer whose group holds another number of variables than it has (Keras's text)."""
        self.counts.append(
            f"{label}: Layer {layer.name!r} expected {len(names)} variables, but received "
            f"{received} variables during loading. Expected: {list(names)}"
        )

    def finish(self, skip_mismatch):
        if not (self.missing or self.unexpected or self.mismatched or self.counts):
            return
        lines = list(self.counts)
        if self.missing:
            lines.append(f"missing from the file: {self.missing}")
        if self.unexpected:
            lines.append(f"in the file but not in the model: {self.unexpected}")
        if self.mismatched:
            lines.append("shapes differ (name: file vs model): " + ", ".join(self.mismatched))
        message = f"The weights in {self.filepath!r} do not match the model: " + "; ".join(lines) + "."
        if skip_mismatch:
            warnings.warn(message + " Those weights were skipped (skip_mismatch=True).", stacklevel=4)
            return
        raise ValueError(message + " Pass `skip_mismatch=True` to load the weights that match.")


def check_shapes(f, model, filepath):
    """Raises `SavedFileError` unless every weight of `model` is in `f` with its shape.

    Reads only the file's structure (groups, dataset shapes), never values: run on a model built
    on `meta`, it proves the sizes a config names before anything is allocated.
    """
    h5py = import_h5py()
    for path, layer in file_paths(f, model):
        hooks = _own_store_hooks(layer)
        for vars_path, _, weights in weight_groups(path, layer):
            if not weights:
                continue
            if hooks is not None:  # the layer's own file layout (a merged LoRA kernel, ...)
                store = {}
                try:
                    hooks[0](store)
                except (RuntimeError, NotImplementedError, TypeError, ValueError):
                    continue  # cannot run on meta tensors: checked when it loads its variables
                items = sorted(store.items(), key=lambda kv: int(kv[0]))
                expected = [(str(k), tuple(v.shape)) for k, v in items]
            else:
                expected = [(s.name, tuple(s.layout.keras_shape(t.shape))) for s, t in weights]
            group = _safe_group(f, vars_path, h5py)
            if group is None and vars_path.startswith("layers/"):
                group = _safe_group(f, vars_path.replace("layers", "_layer_checkpoint_dependencies", 1), h5py)
            if group is None:
                raise SavedFileError(filepath, f"the weights of layer {layer.name!r} are missing.")
            keys = sorted(group.keys(), key=_store_order)
            if len(keys) != len(expected):
                raise SavedFileError(
                    filepath,
                    f"Layer {layer.name!r} expected {len(expected)} variables, but received "
                    f"{len(keys)} variables during loading (the file's {vars_path!r}).",
                )
            for key, (name, shape) in zip(keys, expected):
                dataset = _open_dataset(group, key, h5py, filepath)
                if tuple(dataset.shape) != shape:
                    raise SavedFileError(
                        filepath,
                        f"weight {layer.name}/{name} is {tuple(dataset.shape)} in the file "
                        f"but {shape} in the model its config describes.",
                    )


def read_weights(f, model, filepath, skip_mismatch=False, load_optimizer=True, in_place=False,
                 failures=None):
    """Loads Keras-layout weights from the open h5py file `f` into `model`, in place.

    With `in_place=True` (a model just built to receive them), each dataset is read straight
    into its weight, through one small buffer when the layouts differ, instead of into a
    full-size array first; a read error then leaves the model partly loaded. A layer's own
    `load_own_variables` that raises is reported as Keras does: every layer is still loaded,
    then one `ValueError` names the layers that failed and their errors (a warning with
    `skip_mismatch`); with `failures` (a `LoadFailures`) they are added to it instead, for the
    caller to report with the assets' failures.

    Raises:
        ValueError: Listing the weights missing from the file, unexpected in it, or of another
            shape (unless `skip_mismatch`), or the layers whose `load_own_variables` raised; a
            `SavedFileError` for HDF5 data h5py cannot read.
    """
    own = failures if failures is not None else LoadFailures(filepath)
    try:
        _read_weights(f, model, filepath, skip_mismatch, load_optimizer, in_place, own)
    except (KeyError, RuntimeError, OSError) as error:  # h5py's errors for corrupt HDF5 data
        message = f"its HDF5 data is corrupt ({type(error).__name__}: {error})."
        raise SavedFileError(filepath, message) from error
    if failures is None:
        own.finish(warn_only=skip_mismatch)


def _read_weights(f, model, filepath, skip_mismatch, load_optimizer, in_place, failures):
    h5py = import_h5py()
    report = _Report(filepath)
    visited_groups = set()
    loads = []
    for path, layer in file_paths(f, model):
        for vars_path, _, weights in weight_groups(path, layer):
            _read_group(f, vars_path, layer, weights, report, visited_groups, loads, h5py, filepath)
    _check_unexpected(f, visited_groups, report, h5py)
    report.finish(skip_mismatch)
    if not in_place:  # every value read first: a corrupt dataset leaves the model untouched
        loads = [(spec, t, v.read_all() if spec is None else _dataset_values(v)) for spec, t, v in loads]
    with torch.no_grad():
        for spec, tensor, value in loads:
            if spec is None:  # a layer's own `load_own_variables` with its store
                layer, load = tensor
                try:
                    load(value)
                except Exception as error:  # the layer's code, whatever it raises (as Keras)
                    failures.add(layer, "load_own_variables", error)
            elif in_place:  # `value` is the dataset, its shape checked: read into the weight
                h5_tensors.read_into(tensor, spec.layout, value, _dataset_values)
            else:
                tensor.copy_(spec.layout.to_torch(value.to(tensor.dtype)))
    optimizer = getattr(model, "optimizer", None)
    if load_optimizer and optimizer is not None and getattr(optimizer, "built", False):
        group = _safe_group(f, "optimizer/vars", h5py)
        if group is not None:
            read_optimizer(group, model, optimizer, filepath, h5py)


class _DatasetStore(dict):
    """A layer's `load_own_variables` store over shape-checked HDF5 datasets: each value is read
    when the layer asks for it, so loading holds one weight at a time beside the model."""

    def __getitem__(self, key):
        return _dataset_values(super().__getitem__(key))

    def read_all(self):
        """Every value read now (a plain dict): a corrupt dataset fails before the model changes."""
        return {key: _dataset_values(dataset) for key, dataset in self.items()}


def _read_group(f, vars_path, layer, weights, report, visited_groups, loads, h5py, filepath):
    group = _safe_group(f, vars_path, h5py)
    if group is None and vars_path.startswith("layers/"):  # files from Keras 2.13's saving code
        group = _safe_group(f, vars_path.replace("layers", "_layer_checkpoint_dependencies", 1), h5py)
    label = vars_path[: -len("/vars")] if vars_path != "vars" else "model"
    if group is None:
        report.missing.extend(f"{label}/{s.name}" for s, _ in weights)
        return
    visited_groups.add(group.name)
    keys = sorted(group.keys(), key=_store_order)
    hooks = _own_store_hooks(layer) if weights else None
    if hooks is not None:
        expected = {}
        hooks[0](expected)  # what the layer would write: the count and shapes to expect
        if len(keys) != len(expected):
            names = [spec.name for spec, _ in weights]
            if len(names) != len(expected):  # the layer's own layout: name its store's keys
                names = sorted(expected, key=_store_order)
            report.count_differs(label, layer, names, len(keys))
            return
        store = _DatasetStore()
        for key, (index, value) in zip(keys, sorted(expected.items(), key=lambda kv: _store_order(kv[0]))):
            dataset = _open_dataset(group, key, h5py, filepath)
            if tuple(dataset.shape) != tuple(value.shape):
                report.mismatched.append(f"{label}/{index}: {tuple(dataset.shape)} vs {tuple(value.shape)}")
                return
            store[index] = dataset  # read when the layer asks for it, after every shape is checked
        loads.append((None, (layer, hooks[1]), store))
        return
    if len(keys) != len(weights):
        report.count_differs(label, layer, [spec.name for spec, _ in weights], len(keys))
        return
    for key, (spec, tensor) in zip(keys, weights):
        expected = spec.layout.keras_shape(tensor.shape)
        dataset = _open_dataset(group, key, h5py, filepath)
        if tuple(dataset.shape) != tuple(expected):
            report.mismatched.append(f"{label}/{spec.name}: {tuple(dataset.shape)} vs {tuple(expected)}")
            continue
        loads.append((spec, tensor, dataset))  # read after every shape is checked


def _check_unexpected(f, visited, report, h5py):
    def visit(name, obj):
        if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars" and len(obj):
            if "/" + name not in visited and not name.startswith("optimizer"):
                report.unexpected.append(name[: -len("/vars")] or "vars")

    f.visititems(visit)


def read_optimizer(group, model, optimizer, filepath, h5py):
    """Loads Keras-ordered optimizer variables (slots in their weights' Keras layouts)."""
    keys = sorted(group.keys(), key=_store_order)
    state = optimizer._keras_state()
    if len(keys) != len(state):
        warnings.warn(
            f"Skipping the optimizer state in {filepath!r}: it has {len(keys)} variables, the "
            f"model's optimizer {len(state)}.",
            stacklevel=4,
        )
        return
    pairs = [(layer._find_tensor(spec.attr), spec.layout) for layer, spec in model._weight_entries()]
    layouts = {id(tensor): layout for tensor, layout in pairs}
    values = []
    for key, (tensor, variable) in zip(keys, state):
        layout = None
        if variable is not None:
            layout = layouts.get(id(variable))
        expected = layout.keras_shape(tensor.shape) if layout is not None else tuple(tensor.shape)
        value = _read_dataset(group, key, h5py, filepath, expected)
        if value is None:
            raise SavedFileError(
                filepath,
                f"optimizer variable {group.name}/{key} has shape {tuple(group[key].shape)}, "
                f"the model's optimizer expects {tuple(expected)}.",
            )
        values.append(value)
    # `set_weights` takes Keras's layouts (what `optimizer.variables` shows) once the optimizer
    # knows the weights' layouts; slots convert without an affine layout's constant.
    optimizer._learn_keras_layouts(pairs)
    optimizer.set_weights(values)
