"""`text_dataset_from_directory`: `.txt` files in class folders as a batched torch `DataLoader`
of Python strings (Keras 3's arguments, file order, labels and split; no TensorFlow)."""

from torch.utils.data import default_collate

from keraslike.utils import directory_dataset


class TextFileDataset(directory_dataset.FileDataset):
    """Map-style dataset of file contents (`str`, cut to `max_length` characters)."""

    def __init__(self, file_paths, labels, label_mode, num_classes, max_length):
        super().__init__(file_paths, labels, label_mode, num_classes)
        self.max_length = max_length

    def load(self, path):
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
        return text if self.max_length is None else text[: self.max_length]


def collate_texts(samples):
    """Batches `(text, label)` samples into `(list of str, label tensor)` (or a list of str)."""
    if isinstance(samples[0], str):
        return list(samples)
    texts = [text for text, _ in samples]
    return texts, default_collate([label for _, label in samples])


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="torch",
    verbose=True,
):
    """Generates a dataset from text files in a directory.

    With `main_directory/class_a/*.txt` and `main_directory/class_b/*.txt`,
    `text_dataset_from_directory(main_directory)` yields batches of texts with labels 0
    (`class_a`) and 1 (`class_b`). Only `.txt` files are read (as UTF-8).

    The result is a `torch.utils.data.DataLoader` (not a `tf.data.Dataset`) with Keras's
    `class_names` and `file_paths` attributes; a batch is `(texts, labels)` where `texts` is a
    list of Python strings (what Keras's Grain format yields on the torch backend), ready for
    `TextVectorization` / `StringLookup`: `ds.map(lambda x, y: (vectorize_layer(x), y))` gives
    batches `fit` takes, as with `tf.data`. Its `.dataset` is a map-style
    `torch.utils.data.Dataset` of `(text, label)` samples. File order, labels, class names and the
    training/validation split are Keras's for the same `seed`; with `shuffle` the batches are
    reshuffled each epoch by a generator seeded with `seed`.

    Args:
        directory: Folder with the data (with one subfolder per class if `labels="inferred"`).
        labels: `"inferred"`, `None` (no labels) or a list/tuple of integer labels, one per
            file in the sorted order of the file paths.
        label_mode: `"int"`, `"categorical"`, `"binary"` (exactly 2 classes) or `None`.
        class_names: With `labels="inferred"`, the subfolders to use, in this label order.
        batch_size: Texts per batch (default 32); `None` yields single texts.
        max_length: Texts longer than this many characters are truncated.
        shuffle: Whether to shuffle (default `True`); otherwise the sorted file order.
        seed: Random seed for shuffling (required with `validation_split` and `shuffle`).
        validation_split: Fraction of the files reserved for validation.
        subset: `"training"`, `"validation"` or `"both"` (a `(train, validation)` pair).
        follow_links: Whether to visit subfolders that are symbolic links.
        format: `"torch"` (default); Keras's `"tf"` and `"grain"` give the same `DataLoader`.
        verbose: Whether to print how many files and classes were found.

    Returns:
        A `torch.utils.data.DataLoader`, or a pair of them with `subset="both"`.

    Example:

    >>> train = keras.utils.text_dataset_from_directory("aclImdb/train", batch_size=32)
    >>> texts, labels = next(iter(train))
    """
    labels, label_mode = directory_dataset.check_labels_arguments(labels, label_mode, class_names)
    if format not in ("torch", "tf", "grain"):
        raise ValueError(f'`format` should be "torch", "tf" or "grain". Received: format={format}')
    directory_dataset.check_validation_split_arg(validation_split, subset, shuffle, seed)
    collate = collate_texts if batch_size is not None else None
    return directory_dataset.load_directory(
        directory, labels=labels, label_mode=label_mode, class_names=class_names,
        formats=(".txt",), shuffle=shuffle, seed=seed, follow_links=follow_links,
        verbose=verbose, validation_split=validation_split, subset=subset, batch_size=batch_size,
        make_dataset=lambda paths, labels, num_classes: TextFileDataset(
            paths, labels, label_mode, num_classes, max_length),
        what="text files", allowed="Allowed format: .txt", collate_fn=collate,
    )

