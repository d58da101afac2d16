"""image_dataset_from_directory / text_dataset_from_directory against Keras 3.

Keras's own `*_dataset_from_directory` builds a tf.data (or Grain) pipeline, neither installed
here; the oracle is Keras's TensorFlow-free pieces of the same functions, run on the torch
backend: `dataset_utils.index_directory` + `get_training_or_validation_split` (file order,
labels, class names, split) and `image_dataset_utils._load_image_grain` (pixels after resize).
"""

import os

import numpy as np
import pytest
import torch

import keraslike as keras

PIL = pytest.importorskip("PIL.Image")
CLASSES = {"cats": 3, "dogs": 4, "zebra": 2}


@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for name, count in CLASSES.items():
        (root / name / "nested").mkdir(parents=True)
        for i in range(count):
            size = (7 + i, 9 + 2 * i, 3)
            PIL.fromarray(rng.integers(0, 256, size, dtype=np.uint8)).save(root / name / f"{i}.png")
        PIL.fromarray(rng.integers(0, 256, (5, 6), dtype=np.uint8)).save(root / name / "nested" / "g.png")
    (root / "cats" / "readme.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


@pytest.fixture
def text_folder(tmp_path):
    root = tmp_path / "texts"
    for name, count in {"neg": 3, "pos": 2}.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            (root / name / f"{i}.txt").write_text(f"{name} review number {i} " * (i + 1))
        (root / name / "skip.md").write_text("ignored")
    return root


def _keras_index(root, formats, seed, shuffle=True, split=None, subset=None, **kwargs):
    from keras.src.utils import dataset_utils

    paths, labels, names = dataset_utils.index_directory(
        str(root), kwargs.pop("labels", "inferred"), formats=formats, shuffle=shuffle, seed=seed,
        verbose=False, **kwargs)
    paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, split, subset)
    return paths, labels, names


@pytest.mark.parametrize("seed", [1, 7, 1337])
@pytest.mark.parametrize("subset", ["training", "validation"])
def test_image_files_labels_and_split_equal_keras(image_folder, seed, subset):
    kid = pytest.importorskip("keras.src.utils.image_dataset_utils")
    ds = keras.utils.image_dataset_from_directory(
        image_folder, image_size=(6, 8), batch_size=4, seed=seed, validation_split=0.3,
        subset=subset, verbose=False)
    paths, labels, names = _keras_index(image_folder, kid.ALLOWLIST_FORMATS, seed, split=0.3,
                                        subset=subset)
    assert ds.class_names == names == ["cats", "dogs", "zebra"]
    assert ds.file_paths == paths
    np.testing.assert_array_equal(ds.dataset.labels, np.asarray(labels))
    # Keras's TensorFlow-free image loader gives the same pixels (bilinear resize, float32).
    for i in range(len(paths)):
        expected = kid._load_image_grain(paths[i], (6, 8), 3, "bilinear", "channels_last")
        image, label = ds.dataset[i]
        assert label.dtype == torch.int32 and int(label) == int(labels[i])
        np.testing.assert_allclose(image.numpy(), np.asarray(expected), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "options",
    [
        dict(color_mode="grayscale", interpolation="nearest"),
        dict(color_mode="rgba", interpolation="bicubic"),
        dict(crop_to_aspect_ratio=True),
        dict(pad_to_aspect_ratio=True),
        dict(data_format="channels_first"),
    ],
)
def test_image_pixels_equal_keras_for_each_option(image_folder, options):
    kid = pytest.importorskip("keras.src.utils.image_dataset_utils")
    ds = keras.utils.image_dataset_from_directory(image_folder, image_size=(5, 7), shuffle=False,
                                                  verbose=False, **options)
    channels = {"grayscale": 1, "rgba": 4}.get(options.get("color_mode"), 3)
    for i, path in enumerate(ds.file_paths):
        expected = kid._load_image_grain(
            path, (5, 7), channels, options.get("interpolation", "bilinear"),
            options.get("data_format", "channels_last"),
            options.get("crop_to_aspect_ratio", False), options.get("pad_to_aspect_ratio", False))
        np.testing.assert_allclose(ds.dataset[i][0].numpy(), np.asarray(expected), atol=1e-3)


def test_image_batches_shapes_and_label_modes(image_folder):
    ds = keras.utils.image_dataset_from_directory(image_folder, image_size=4, batch_size=4,
                                                  shuffle=False, label_mode="categorical",
                                                  verbose=False)
    batches = list(ds)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 4, 4, 3)] * 3
    assert all(y.dtype == torch.float32 and y.shape[1] == 3 for _, y in batches)
    # Unshuffled: sorted class folders, files walked in sorted order (nested folders after).
    names = [os.path.relpath(p, image_folder) for p in ds.file_paths]
    assert names[:4] == ["cats/0.png", "cats/1.png", "cats/2.png", "cats/nested/g.png"]
    np.testing.assert_array_equal(torch.cat([y for _, y in batches]).argmax(1).numpy(),
                                  [0] * 4 + [1] * 5 + [2] * 3)
    images_only = keras.utils.image_dataset_from_directory(
        image_folder, image_size=(3, 3), label_mode=None, batch_size=5, shuffle=False,
        verbose=False)
    first = next(iter(images_only))
    assert isinstance(first, torch.Tensor) and first.shape == (5, 3, 3, 3)
    unbatched = keras.utils.image_dataset_from_directory(
        image_folder, image_size=(3, 3), batch_size=None, shuffle=False, verbose=False)
    image, label = next(iter(unbatched))
    assert image.shape == (3, 3, 3) and label.shape == ()
    two = keras.utils.image_dataset_from_directory(
        image_folder, image_size=(3, 3), labels=[0, 1] * 6, label_mode="binary", shuffle=False,
        verbose=False)
    assert two.class_names == ["0", "1"]
    _, y = next(iter(two))
    assert y.shape == (12, 1) and y.dtype == torch.float32
    np.testing.assert_array_equal(y[:, 0].numpy(), [0, 1] * 6)


def test_image_subset_both_and_class_names_order(image_folder):
    train, val = keras.utils.image_dataset_from_directory(
        image_folder, image_size=(4, 4), validation_split=0.25, subset="both", seed=5,
        class_names=["zebra", "cats"], verbose=False)
    assert train.class_names == val.class_names == ["zebra", "cats"]
    assert len(train.dataset) == 6 and len(val.dataset) == 1  # int(0.25 * 7) validation files
    assert not set(train.file_paths) & set(val.file_paths)
    for ds in (train, val):
        for path, label in zip(ds.file_paths, ds.dataset.labels):
            assert os.path.relpath(path, image_folder).split(os.sep)[0] == ["zebra", "cats"][label]


def test_shuffle_is_seeded_and_redrawn_each_epoch(image_folder):
    def orders(seed):
        ds = keras.utils.image_dataset_from_directory(image_folder, image_size=(2, 2),
                                                      batch_size=12, seed=seed, verbose=False)
        return [tuple(next(iter(ds))[0].sum((1, 2, 3)).tolist()) for _ in range(3)]

    first, again = orders(11), orders(11)
    assert first == again
    assert len(set(first)) > 1  # each epoch draws a new order


def test_image_dataset_trains_predicts_and_works_with_workers(image_folder):
    ds = keras.utils.image_dataset_from_directory(image_folder, image_size=(4, 4), batch_size=5,
                                                  seed=0, verbose=False)
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(ds, verbose=0).shape == (12, 3)
    assert isinstance(model.evaluate(ds, verbose=0), float)
    loader = torch.utils.data.DataLoader(ds.dataset, batch_size=6, num_workers=2, timeout=60)
    assert sum(len(y) for _, y in loader) == 12


def test_text_files_labels_and_contents_equal_keras(text_folder):
    ds = keras.utils.text_dataset_from_directory(text_folder, batch_size=2, seed=3,
                                                 validation_split=0.4, subset="training",
                                                 verbose=False)
    paths, labels, names = _keras_index(text_folder, (".txt",), 3, split=0.4, subset="training")
    assert ds.class_names == names == ["neg", "pos"]
    assert ds.file_paths == paths
    np.testing.assert_array_equal(ds.dataset.labels, labels)
    texts = [ds.dataset[i][0] for i in range(len(paths))]
    assert texts == [open(p).read() for p in paths]
    batch_texts, batch_labels = next(iter(ds))
    assert isinstance(batch_texts, list) and isinstance(batch_texts[0], str)
    assert batch_labels.dtype == torch.int32 and batch_labels.shape == (2,)


def test_text_max_length_label_modes_and_vectorization(text_folder):
    ds = keras.utils.text_dataset_from_directory(text_folder, max_length=5, shuffle=False,
                                                 label_mode="binary", verbose=False)
    texts, labels = next(iter(ds))
    assert texts == ["neg r", "neg r", "neg r", "pos r", "pos r"]
    np.testing.assert_array_equal(labels.numpy(), [[0], [0], [0], [1], [1]])
    only = keras.utils.text_dataset_from_directory(text_folder, labels=None, shuffle=False,
                                                   batch_size=None, verbose=False)
    assert only.class_names is None and next(iter(only)).startswith("neg review number 0")
    vectorize = keras.layers.TextVectorization(max_tokens=10, output_sequence_length=4)
    vectorize.adapt([text for text in only])
    assert vectorize(texts).shape == (5, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(label_mode="sparse"), "label_mode=sparse"),
        (dict(color_mode="cmyk"), "color_mode=cmyk"),
        (dict(interpolation="cubic"), "interpolation=cubic"),
        (dict(interpolation="lanczos3"), "interpolation=lanczos3"),
        (dict(subset="training"), "validation_split"),
        (dict(validation_split=0.2, subset="training"), "seed"),
        (dict(label_mode="binary"), "exactly 2"),
        (dict(labels="folders"), "labels=folders"),
        (dict(class_names=["cats", "horses"]), "class_names"),
    ],
)
def test_image_dataset_bad_arguments(image_folder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.utils.image_dataset_from_directory(image_folder, verbose=False, **kwargs)


def test_missing_and_empty_folders(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match="nowhere") as info:
        keras.utils.image_dataset_from_directory(missing)
    assert isinstance(info.value, FileNotFoundError)  # what Keras raises, too
    with pytest.raises(ValueError, match="nowhere"):
        keras.utils.text_dataset_from_directory(missing)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "a" / "x.txt").write_text("text, not an image")
    with pytest.raises(ValueError, match="No images found in directory .*empty"):
        keras.utils.image_dataset_from_directory(tmp_path / "empty", verbose=False)
    (tmp_path / "none" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No text files found"):
        keras.utils.text_dataset_from_directory(tmp_path / "none", verbose=False)
    with pytest.raises(ValueError, match="label_mode=onehot"):
        keras.utils.text_dataset_from_directory(tmp_path / "empty", label_mode="onehot")


def test_preprocessing_aliases():
    assert keras.preprocessing.image_dataset_from_directory is keras.utils.image_dataset_from_directory
    assert keras.preprocessing.text_dataset_from_directory is keras.utils.text_dataset_from_directory
    assert keras.preprocessing.image.load_img is keras.utils.load_img
    assert keras.preprocessing.image.smart_resize is not None


def test_map_vectorizes_texts_for_fit_like_tf_data(text_folder):
    raw = keras.utils.text_dataset_from_directory(text_folder, batch_size=2, seed=1,
                                                  verbose=False)
    texts, labels = next(iter(raw))
    assert isinstance(texts, list) and isinstance(labels, torch.Tensor)
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(raw.map(lambda x, y: x))
    train = raw.map(lambda x, y: (vectorize(x), y))
    assert len(train) == len(raw) == 3 and train.class_names == ["neg", "pos"]
    x, y = next(iter(train))
    assert x.dtype == torch.int64 and x.shape == (2, 6)
    model = keras.Sequential([keras.Input((6,), dtype="int64"), keras.layers.Embedding(20, 4),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(train.map(lambda x, y: (x, y.float())), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(train.map(lambda x, y: x), verbose=0).shape == (5, 1)


@pytest.mark.parametrize("follow_links", [False, True])
def test_follow_links_equals_keras(image_folder, tmp_path, follow_links):
    kid = pytest.importorskip("keras.src.utils.image_dataset_utils")
    outside = tmp_path / "outside"
    outside.mkdir()
    PIL.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(outside / "linked.png")
    os.symlink(outside, image_folder / "dogs" / "more")
    ds = keras.utils.image_dataset_from_directory(image_folder, image_size=(2, 2), shuffle=False,
                                                  follow_links=follow_links, verbose=False)
    paths, labels, _ = _keras_index(image_folder, kid.ALLOWLIST_FORMATS, None, shuffle=False,
                                    follow_links=follow_links)
    assert ds.file_paths == paths
    np.testing.assert_array_equal(ds.dataset.labels, labels)
    assert any(p.endswith("linked.png") for p in paths) == follow_links
