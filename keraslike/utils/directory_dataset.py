"""What `image_dataset_from_directory` and `text_dataset_from_directory` share: indexing a folder
(Keras's file order, labels, class names and seeded shuffle), the validation split, argument
checks, and the batched torch `DataLoader` they return."""

import os

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

LABEL_MODES = ("int", "categorical", "binary", None)


class DirectoryNotFoundError(FileNotFoundError, ValueError):
    """A dataset folder that does not exist: a `FileNotFoundError` (what Keras raises) that is
    also a `ValueError` (what keraslike raises for every bad argument)."""


def check_labels_arguments(labels, label_mode, class_names):
    """Keras's checks of `labels`, `label_mode` and `class_names`; returns `(labels, label_mode)`
    with both set to `None` when either is."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as "
                "the number of files in the target directory. If you wish to infer the labels "
                'from the subdirectory names in the target directory, pass `labels="inferred"`. '
                "If you wish to get a dataset that only contains the files (no labels), pass "
                f"`labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if label_mode not in LABEL_MODES:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's checks of `validation_split` / `subset` / `seed`."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def _valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=bool(follow_links))
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """Lists the files under `directory` with their labels, in Keras's order.

    Class folders are the sorted non-hidden subfolders (or `class_names`, in that order); files
    are walked in sorted order within each; with `shuffle`, paths and labels are permuted by
    `np.random.RandomState(seed)` exactly as Keras does, so the same seed gives the same
    training/validation split.

    Returns:
        `(file_paths, labels, class_names)`: labels an int32 array (inferred), the given list,
        or `None`.
    """
    if not os.path.isdir(directory):
        raise DirectoryNotFoundError(
            f"The dataset folder does not exist or is not a directory. "
            f"Received: directory={str(directory)!r}"
        )
    directory = os.fspath(directory)
    if labels == "inferred":
        subdirs = [
            name for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            if labels is None:
                raise ValueError(
                    "When `labels=None` (no labels), argument `class_names` cannot be specified."
                )
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be specified "
                "(the `class_names` will be the sorted list of labels)."
            )
        subdirs = [""]
    filenames, file_labels = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        prefix = os.path.basename(folder)
        for root, name in _valid_files(folder, follow_links, formats):
            filenames.append(os.path.join(prefix, os.path.relpath(os.path.join(root, name), folder)))
            file_labels.append(index)
    if labels == "inferred":
        class_names = list(subdirs)
        labels = np.asarray(file_labels, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} files "
                f"in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            labels = list(labels) if isinstance(labels, tuple) else labels
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def training_or_validation_split(samples, labels, validation_split, subset):
    """The last `int(validation_split * n)` samples are the validation subset (Keras's rule)."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - num_val} files for training.")
        cut = slice(None, -num_val) if num_val else slice(None)
    elif subset == "validation":
        print(f"Using {num_val} files for validation.")
        cut = slice(-num_val, None) if num_val else slice(0, 0)
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples[cut], (None if labels is None else labels[cut])


def encode_label(label, label_mode, num_classes):
    """One label as Keras yields it: int32 scalar, float32 `(1,)`, or float32 one-hot."""
    if label_mode == "binary":
        return torch.tensor([float(label)], dtype=torch.float32)
    if label_mode == "categorical":
        one_hot = torch.zeros(num_classes, dtype=torch.float32)
        one_hot[int(label)] = 1.0
        return one_hot
    return torch.tensor(int(label), dtype=torch.int32)


class FileDataset(Dataset):
    """Map-style dataset over files: item `i` is `load(path_i)` or `(load(path_i), label_i)`.

    Subclasses define `load(path)`. Picklable (paths, labels and settings only), so
    `DataLoader(num_workers=...)` workers can read files in parallel.
    """

    def __init__(self, file_paths, labels, label_mode, num_classes):
        self.file_paths = list(file_paths)
        self.labels = None if label_mode is None else np.asarray(labels, dtype="int64")
        self.label_mode = label_mode
        self.num_classes = num_classes

    def __len__(self):
        return len(self.file_paths)

    def load(self, path):
        raise NotImplementedError

    def __getitem__(self, index):
        sample = self.load(self.file_paths[index])
        if self.label_mode is None:
            return sample
        return sample, encode_label(self.labels[index], self.label_mode, self.num_classes)


def _as_tuple(batch):
    return tuple(batch) if isinstance(batch, list) else batch


class MappedBatches:
    """The batches of `source` passed through `fn` (`fn(*batch)` for an `(x, y)` batch, as
    `tf.data.Dataset.map` calls it): what `loader.map(fn)` returns. Iterable, with a length,
    `class_names` and `file_paths`; `fit`/`evaluate`/`predict` take it."""

    def __init__(self, source, fn):
        self.source = source
        self.fn = fn
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self):
        return len(self.source)

    def __iter__(self):
        for batch in self.source:
            yield self.fn(*batch) if isinstance(batch, tuple) else self.fn(batch)

    def map(self, fn):
        """Returns these batches passed through `fn` too."""
        return MappedBatches(self, fn)


class DirectoryLoader(DataLoader):
    """A `DataLoader` of files with Keras's `class_names` / `file_paths` and a `map(fn)` like
    `tf.data.Dataset.map` (per batch, on the host; returns a `MappedBatches`)."""

    def __iter__(self):
        for batch in super().__iter__():
            yield _as_tuple(batch)

    def map(self, fn):
        """Returns the batches passed through `fn` (`fn(x, y)` for `(x, y)` batches)."""
        return MappedBatches(self, fn)


def make_loader(dataset, batch_size, shuffle, seed, class_names, collate_fn=None):
    """A `DirectoryLoader` over `dataset` with Keras's `class_names` and `file_paths`.

    With `shuffle`, the order is drawn anew each epoch from a `torch.Generator` seeded with
    `seed` (so two loaders built with one seed iterate identically). `(x, y)` batches are tuples.
    """
    generator = None
    if shuffle:
        generator = torch.Generator()
        generator.manual_seed(int(seed))
    loader = DirectoryLoader(dataset, batch_size=batch_size, shuffle=bool(shuffle),
                             generator=generator, collate_fn=collate_fn)
    loader.class_names = class_names
    loader.file_paths = dataset.file_paths
    return loader


def load_directory(directory, *, labels, label_mode, class_names, formats, shuffle, seed,
                   follow_links, verbose, validation_split, subset, batch_size, make_dataset,
                   what, allowed, collate_fn=None):
    """Indexes `directory` and returns the loader of `subset` (both for `subset="both"`).

    The steps Keras's `*_dataset_from_directory` share: a random seed when none is given, the
    files and labels in Keras's order, `label_mode="binary"` checked against the classes found,
    then per subset the split, a clear error when it has no file, and the loader.

    Args:
        make_dataset: `make_dataset(paths, labels, num_classes)`, the subset's `Dataset`.
        what: What the files are, for errors (`"images"`, `"text files"`, ...).
        allowed: The sentence naming the allowed formats, for errors.
        Others: As in `index_directory`, `training_or_validation_split` and `make_loader`.
    """
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )
    num_classes = len(class_names) if class_names else 0

    def build(which, shuffled):
        part_paths, part_labels = training_or_validation_split(paths, labels, validation_split, which)
        if not part_paths:
            kind = f"{which} {what}" if which in ("training", "validation") else what
            raise ValueError(f"No {kind} found in directory {directory}. {allowed}")
        dataset = make_dataset(part_paths, part_labels, num_classes)
        return make_loader(dataset, batch_size, shuffled, seed, class_names, collate_fn=collate_fn)

    if subset == "both":
        return build("training", shuffle), build("validation", False)
    return build(subset, shuffle)
