"""`keras.saving.KerasFileEditor`: inspect, edit and resave the weights of a Keras file.

The editor reads the weights of a `.keras` archive or a `.weights.h5` file (Keras's or
keraslike's) into a tree of dicts: each object (a layer, a nested model, an LSTM's `cell`, the
`optimizer`) is a dict of its weights (`"0"`, `"1"`, ... in Keras's layouts, NumPy arrays) and
of its sub-objects. `save` writes the tree back as a `.weights.h5` file, `<path>/vars/<key>`
for each weight, as Keras's savers lay it out, so `model.load_weights` reads it in Keras and
keraslike alike.

Where Keras 3.15.1's editor loses or miscounts data, this one does not: objects whose own
`vars` group is empty but which hold sub-objects (an LSTM's `cell`, a nested model's layers)
are kept (Keras drops them, and its `save` then drops their weights); a name is looked up once
per occurrence (Keras counts some names twice and refuses them as ambiguous); `compare` counts
each mismatch once; and `rename_object` refuses to overwrite another object.
"""

import contextlib
import math
import os
import shutil
import tempfile
import zipfile
import zlib

import numpy as np
import torch

from keraslike.layers.layer import Layer
from keraslike.saving import formats, keras_archive, keras_h5
from keraslike.saving.archive_member import member_file
from keraslike.saving.atomic import atomic_path
from keraslike.saving.errors import SavedFileError, SavedFileNotFoundError

_MAX_RANK = 64  # Keras's limits on one dataset of an edited file
_MAX_BYTES = 1 << 32


class KerasFileEditor:
    """Utility to inspect, edit, and resave Keras weights files.

    Useful to adapt a saved weights file to a changed architecture: rename, delete or add
    layers' weights, check the result against the new model with `compare`, and write it with
    `save` for `model.load_weights`.

    Args:
        filepath: The path of a local `.keras` or `.weights.h5` file.

    Attributes:
        weights_dict: The weights tree: object name -> dict of weight name -> NumPy array
            (Keras's layouts) and sub-objects.
        object_metadata: Path (`"/layers/dense"`) -> the HDF5 attributes of that object
            (`{"name": "dense"}`).
        config: The model config of a `.keras` file (a dict), else `None`.
        metadata: The `metadata.json` of a `.keras` file (a dict), else `None`.

    Raises:
        ValueError: For another file extension, or a file that is not a valid Keras file.

    Example:

    ```python
    editor = KerasFileEditor("my_model.weights.h5")

    # Displays current contents
    editor.summary()

    # Remove the weights of an existing layer
    editor.delete_object("layers/dense_2")

    # Add the weights of a new layer
    editor.add_object("layers/einsum_dense", weights={"0": ..., "1": ...})

    # Save the weights of the edited model
    editor.resave_weights("edited_model.weights.h5")
    ```
    """

    def __init__(self, filepath):
        self.filepath = filepath
        self.metadata = None
        self.config = None
        self.model = None
        path = os.fspath(filepath)
        if not isinstance(path, str) or not path.endswith((".keras", ".weights.h5")):
            raise ValueError(
                "Invalid filename: expected a `.keras` `.weights.h5` extension. "
                f"Received: filepath={filepath}"
            )
        if not os.path.exists(path):
            raise SavedFileNotFoundError(path, "no such file.")
        h5py = keras_h5.import_h5py()
        if path.endswith(".keras"):
            with keras_archive.open_archive(path) as zf:
                self.config = keras_archive._read_json(zf, keras_archive.CONFIG, path)
                self.metadata = keras_archive._read_json(zf, keras_archive.METADATA, path)
                with _archive_weights(zf, path) as source:
                    try:
                        f = h5py.File(source, "r")
                    except OSError as e:
                        message = f"{keras_archive.WEIGHTS!r} is not a valid HDF5 file ({e})."
                        raise SavedFileError(path, message) from None
                    with f:
                        self.weights_dict, self.object_metadata = _read_tree(f, path, h5py)
        else:
            with formats.open_h5(path) as f:
                self.weights_dict, self.object_metadata = _read_tree(f, path, h5py)
        print(f"Keras model file '{self.filepath}'")
        if isinstance(self.metadata, dict):
            print(
                f"Saved with Keras {self.metadata.get('keras_version')} - "
                f"date: {self.metadata.get('date_saved')}"
            )

    def summary(self):
        """Prints the weight structure of the opened file."""
        print("Weights structure")
        for line in _tree_lines(self.weights_dict, self.object_metadata, prefix="  "):
            print(line)

    def weights_summary(self):
        """Prints the weight structure of the opened file (the same as `summary`)."""
        self.summary()

    def compare(self, reference_model):
        """Compares the opened file to a reference model.

        Lists every object or weight present on one side only and every weight whose shape
        differs (weights in Keras's layouts, as the file holds them).

        Args:
            reference_model: Model instance to compare to.

        Returns:
            Dict with the keys `'status'` (`'success'` or `'error'`), `'error_count'` (the
            number of mismatches) and `'match_count'` (the number of matching weights).
        """
        if not isinstance(reference_model, Layer):
            raise ValueError(
                "`compare` takes a keraslike model. Received: "
                f"reference_model={reference_model!r:.80} of type {type(reference_model).__name__}"
            )
        print("Running comparison")
        counts = {"error": 0, "match": 0}
        reference = _model_tree(reference_model)
        _compare(self.weights_dict, reference, "", counts)
        print("─────────────────────")
        if counts["error"] == 0:
            print("Comparison successful: saved file is compatible with the reference model")
            plural = "" if counts["match"] == 1 else "s"
            print(f"    Found {counts['match']} matching weight{plural}")
            status = "success"
        else:
            plural = "" if counts["error"] == 1 else "s"
            print(
                f"Found {counts['error']} error{plural}: saved file is not compatible with the "
                "reference model"
            )
            status = "error"
        return {"status": status, "error_count": counts["error"], "match_count": counts["match"]}

    def rename_object(self, object_name, new_name):
        """Rename an object in the file (e.g. a layer).

        Args:
            object_name: String, name or path of the object to rename (e.g. `"dense_2"` or
                `"layers/dense_2"`).
            new_name: String, new name of the object (a leaf name, not a path).
        """
        _check_leaf_name(new_name)
        parent, key, path = self._locate(object_name)
        if new_name != key and new_name in parent:
            raise ValueError(
                f"Cannot rename '{path}' to '{new_name}': an object or weight named "
                f"'{new_name}' already exists there. Delete it first."
            )
        parent[new_name] = parent.pop(key)
        new_path = path.rsplit("/", 1)[0] + "/" + new_name if "/" in path else new_name
        for old in [p for p in self.object_metadata if _under(p, path)]:
            moved = "/" + new_path + old[len(path) + 1:]
            self.object_metadata[moved] = self.object_metadata.pop(old)

    def delete_object(self, object_name):
        """Removes an object from the file (e.g. a layer).

        Args:
            object_name: String, name or path of the object to delete (e.g. `"dense_2"` or
                `"layers/dense_2"`).
        """
        parent, key, _ = self._locate(object_name)
        parent.pop(key)

    def add_object(self, object_path, weights):
        """Add a new object to the file (e.g. a layer).

        Args:
            object_path: String, full path of the object to add (e.g. `"layers/dense_2"`).
            weights: Dict mapping weight names to weight values (arrays), e.g.
                `{"0": kernel_value, "1": bias_value}`.
        """
        weights = _checked_weights(weights)
        elements = _split(object_path)
        node = self.weights_dict
        for element in elements[:-1]:
            node = node.get(element)
            if not isinstance(node, dict):
                raise ValueError(f"Path '{'/'.join(elements[:-1])}' not found in model.")
        node[elements[-1]] = weights

    def delete_weight(self, object_name, weight_name):
        """Removes a weight from an existing object.

        Args:
            object_name: String, name or path of the object from which to remove the weight
                (e.g. `"dense_2"` or `"layers/dense_2"`).
            weight_name: String, name of the weight to delete (e.g. `"0"`).
        """
        parent, key, _ = self._locate(object_name)
        target = parent[key]
        if not isinstance(target, dict) or weight_name not in target:
            found = list(target.keys()) if isinstance(target, dict) else []
            raise ValueError(
                f"Weight {weight_name} not found in object {object_name}. Weights found: {found}"
            )
        target.pop(weight_name)

    def add_weights(self, object_name, weights):
        """Add one or more new weights to an existing object.

        Args:
            object_name: String, name or path of the object to add the weights to (e.g.
                `"dense_2"` or `"layers/dense_2"`).
            weights: Dict mapping weight names to weight values (arrays), e.g.
                `{"0": kernel_value, "1": bias_value}`.
        """
        weights = _checked_weights(weights)
        parent, key, path = self._locate(object_name)
        if not isinstance(parent[key], dict):
            raise ValueError(f"'{path}' is a weight, not an object: weights go into objects.")
        parent[key].update(weights)

    def save(self, filepath):
        """Save the edited weights file.

        The file is written atomically: a failed save leaves any previous file in place.

        Args:
            filepath: Path to save the file to. Must be a `.weights.h5` file.
        """
        filepath = str(os.fspath(filepath))
        if not filepath.endswith(".weights.h5"):
            raise ValueError(
                "Invalid `filepath` argument: expected a `.weights.h5` extension. "
                f"Received: filepath={filepath}"
            )
        h5py = keras_h5.import_h5py()
        with atomic_path(filepath) as tmp:
            with h5py.File(tmp, "w") as f:
                _write_tree(f, self.weights_dict, "")

    def resave_weights(self, filepath):
        """Save the edited weights file (the same as `save`)."""
        self.save(filepath)

    def _locate(self, name):
        """`(parent dict, key, path)` of the object or weight `name` (a path or a unique name)."""
        if "/" in name.strip("/"):
            elements = _split(name)
            node = self.weights_dict
            for element in elements[:-1]:
                node = node.get(element) if isinstance(node, dict) else None
            if not isinstance(node, dict) or elements[-1] not in node:
                raise ValueError(f"Path '{name}' not found in model.")
            return node, elements[-1], "/".join(elements)
        name = name.strip("/")
        found = list(_find(self.weights_dict, name, ""))
        if len(found) > 1:
            raise ValueError(
                f"Name '{name}' occurs more than once in the model; try passing a complete path "
                f"(one of {[path for _, _, path in found]})"
            )
        if not found:
            raise ValueError(
                f"Source name '{name}' does not appear in the model. Use "
                "`editor.weights_summary()` to list all objects."
            )
        return found[0]


def _split(path):
    elements = path.strip("/").split("/")
    if not all(elements):
        raise ValueError(f"Invalid object path {path!r}: it has an empty element.")
    return elements


def _under(key, path):
    return key == "/" + path or key.startswith("/" + path + "/")


def _check_leaf_name(name):
    if "/" in name:
        raise ValueError(
            "Argument `target_name` should be a leaf name, not a full path name. "
            f"Received: target_name='{name}'"
        )


def _find(tree, name, path):
    for key, value in tree.items():
        child = f"{path}/{key}" if path else key
        if key == name:
            yield tree, key, child
        if isinstance(value, dict):
            yield from _find(value, name, child)


def _as_array(value, label):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        value = (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    array = np.asarray(value)
    if array.dtype.name == "bfloat16":  # ml_dtypes' NumPy bfloat16: stored as float32
        array = array.astype(np.float32)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"Weight {label!r} must be numeric; received dtype {array.dtype}.")
    return array


def _checked_weights(weights):
    if not isinstance(weights, dict):
        raise ValueError(
            "Argument `weights` should be a dict where keys are weight names (usually '0', "
            f"'1', etc.) and values are NumPy arrays. Received: type(weights)={type(weights)}"
        )
    checked = {}
    for key, value in weights.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise ValueError(
                f"Weight names must be non-empty strings without '/'. Received: {key!r}"
            )
        checked[key] = value if isinstance(value, dict) else _as_array(value, key)
    return checked


@contextlib.contextmanager
def _archive_weights(zf, path):
    """The archive's weights member as something h5py opens: in place, or extracted privately."""
    name = keras_archive.WEIGHTS
    if name not in zf.namelist():
        raise SavedFileError(path, f"the .keras archive has no {name!r} member.")
    source = member_file(zf, name, path)
    if source is not None:  # stored uncompressed: read inside the archive
        with source:
            yield source
        return
    with tempfile.TemporaryDirectory(prefix="keraslike-editor-") as scratch:
        target = os.path.join(scratch, "weights.h5")  # our name, not the archive's
        try:
            with zf.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
            raise SavedFileError(path, f"cannot read {name!r} from the archive ({e}).") from None
        yield target


def _read_tree(f, filepath, h5py):
    """`(weights tree, metadata)` of an open Keras weights file."""
    metadata = {}
    tree = _read_object(f, "", filepath, h5py, metadata)
    return tree, metadata


def _read_object(group, path, filepath, h5py, metadata):
    """An object's dict: the datasets of its `vars` group, then its other non-empty children."""
    result = {}
    attrs = dict(group.attrs)
    children = list(group.keys())
    variables = _child(group, "vars", h5py) if "vars" in children else None
    if isinstance(variables, h5py.Group):
        attrs.update(variables.attrs)  # the object's `name`, as Keras's savers write it
        for key in variables.keys():
            result[key] = _read_dataset(variables, key, f"{path}/vars/{key}", filepath, h5py)
        children.remove("vars")
    if attrs:
        metadata[path] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
    for key in children:
        child = _child(group, key, h5py)
        if not isinstance(child, h5py.Group) or not len(child):
            continue
        value = _read_object(child, f"{path}/{key}", filepath, h5py, metadata)
        if not value:
            continue
        if key in result:
            raise SavedFileError(
                filepath, f"'{path}/{key}' is both a weight and an object of '{path or '/'}'."
            )
        result[key] = value
    return result


def _child(group, key, h5py):
    kind = group.get(key, getclass=True, getlink=True)
    if kind in (h5py.SoftLink, h5py.ExternalLink):
        raise ValueError(f"Not allowed: H5 file with {kind.__name__} at {group.name}/{key}")
    return group[key]


def _read_dataset(group, key, label, filepath, h5py):
    dataset = _child(group, key, h5py)
    if not isinstance(dataset, h5py.Dataset):
        raise SavedFileError(filepath, f"'{label}' is a group inside a `vars` group.")
    keras_h5.checked_dataset(dataset, h5py, filepath, label)
    if len(dataset.shape) > _MAX_RANK:
        raise ValueError(
            "Malformed HDF5 dataset shape encountered in .keras file; tensor rank exceeds "
            "safety limit."
        )
    size = math.prod(dataset.shape) * dataset.dtype.itemsize
    if size > _MAX_BYTES:
        raise ValueError(
            f"HDF5 dataset too large to load safely ({size} bytes; limit is {_MAX_BYTES})."
        )
    return dataset[()]


def _write_tree(f, tree, path):
    weights = {k: v for k, v in tree.items() if not isinstance(v, dict)}
    if weights:
        group = f.create_group(f"{path}/vars" if path else "vars")
        for key, value in weights.items():
            group.create_dataset(key, data=_as_array(value, f"{path}/{key}"))
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            _write_tree(f, value, f"{path}/{key}" if path else key)


def _model_tree(model):
    """The weights tree `model` would save (shapes only), as the editor reads files."""
    tree = {}

    def node_at(vars_path):
        node = tree
        for element in vars_path.split("/")[:-1]:  # `.../vars` names the object's path
            node = node.setdefault(element, {})
        return node

    for path, layer in keras_h5.walk_layers(model):
        for vars_path, _, weights in keras_h5.weight_groups(path, layer):
            if weights:
                values = keras_h5._keras_values(layer, weights)
                node_at(vars_path).update({key: tuple(v.shape) for key, v in values})
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and hasattr(optimizer, "_variables"):
        arrays = keras_h5.optimizer_arrays(model, optimizer)
        if arrays:
            node_at("optimizer/vars").update({str(i): tuple(a.shape) for i, a in enumerate(arrays)})
    return _prune(tree)


def _prune(tree):
    pruned = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _prune(value)
            if not value:
                continue
        pruned[key] = value
    return pruned


def _compare(saved, reference, path, counts):
    for key, ref in reference.items():
        inner = f"{path}/{key}"
        if key not in saved:
            counts["error"] += 1
            kind = "Object" if isinstance(ref, dict) else "Weight"
            print(f"...{kind} {inner} present in reference model, missing from saved file")
            if isinstance(ref, dict):
                print(f"    In reference model, {inner} contains the following keys: {list(ref)}")
            continue
        value = saved[key]
        if isinstance(ref, dict) != isinstance(value, dict):
            counts["error"] += 1
            print(f"...{inner} is an object on one side and a weight on the other")
        elif isinstance(ref, dict):
            _compare(value, ref, inner, counts)
        elif tuple(value.shape) != tuple(ref):
            counts["error"] += 1
            print(
                f"...Weight shape mismatch for {inner}\n    In reference model: shape={tuple(ref)}"
                f"\n    In saved file: shape={tuple(value.shape)}"
            )
        else:
            counts["match"] += 1
    for key, value in saved.items():
        if key not in reference:
            counts["error"] += 1
            inner = f"{path}/{key}"
            kind = "Object" if isinstance(value, dict) else "Weight"
            print(f"...{kind} {inner} present in saved file, missing from reference model")
            if isinstance(value, dict):
                print(f"    In saved file, {inner} contains the following keys: {list(value)}")


def _tree_lines(tree, metadata, prefix, path=""):
    items = list(tree.items())
    for index, (key, value) in enumerate(items):
        last = index == len(items) - 1
        connector = "> " if not path and index == 0 else ("└─ " if last else "├─ ")
        inner = f"{path}/{key}"
        if isinstance(value, dict):
            name = metadata.get(inner, {}).get("name")
            yield f"{prefix}{connector}{key}" + (f" ('{name}')" if name else "")
            yield from _tree_lines(value, metadata, prefix + ("    " if last else "│   "), inner)
        else:
            yield f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}"
