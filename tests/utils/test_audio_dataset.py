"""audio_dataset_from_directory against Keras 3.

Keras's own function builds a tf.data pipeline (TensorFlow is not installed here); the oracle is
its TensorFlow-free pieces, run on the torch backend: `dataset_utils.index_directory` +
`get_training_or_validation_split` (file order, labels, class names, split). Audio values are
checked against the int16 samples written in the test (TensorFlow's `decode_wav` gives
`int16 / 32768`).
"""

import wave

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike.utils import audio_dataset_utils

CLASSES = {"no": 3, "up": 2, "yes": 4}


def _write_wav(path, samples, rate=8000, width=2):
    samples = np.asarray(samples)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2" if width == 2 else "u1").tobytes())


@pytest.fixture
def audio_folder(tmp_path):
    """Mono clips of different lengths; clip `(c, i)` holds samples `100*c + i` then a ramp."""
    root = tmp_path / "audio"
    for c, (name, count) in enumerate(CLASSES.items()):
        (root / name / "nested").mkdir(parents=True)
        for i in range(count):
            length = 5 + 3 * i + c
            _write_wav(root / name / f"{i}.wav", 100 * c + i + np.arange(length) * 7)
        _write_wav(root / name / "nested" / "n.WAV", np.full(4, -32768))
        (root / name / "notes.txt").write_text("not audio")
    (root / ".hidden").mkdir()
    return root


def _keras_index(root, seed, shuffle=True, split=None, subset=None, **kwargs):
    from keras.src.utils import dataset_utils

    paths, labels, names = dataset_utils.index_directory(
        str(root), kwargs.pop("labels", "inferred"), formats=(".wav",), shuffle=shuffle,
        seed=seed, verbose=False, **kwargs)
    paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, split, subset)
    return paths, labels, names


def _samples(path):
    with wave.open(path, "rb") as f:
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
        return data.reshape(-1, f.getnchannels())


@pytest.mark.parametrize("seed", [1, 7, 1337])
@pytest.mark.parametrize("subset", ["training", "validation"])
def test_files_labels_and_split_equal_keras(audio_folder, seed, subset):
    kad = pytest.importorskip("keras.src.utils.audio_dataset_utils")
    assert kad.ALLOWED_FORMATS == audio_dataset_utils.ALLOWED_FORMATS
    ds = keras.utils.audio_dataset_from_directory(
        audio_folder, batch_size=4, seed=seed, validation_split=0.3, subset=subset, verbose=False)
    paths, labels, names = _keras_index(audio_folder, seed, split=0.3, subset=subset)
    assert ds.class_names == names == ["no", "up", "yes"]
    assert ds.file_paths == paths
    np.testing.assert_array_equal(ds.dataset.labels, np.asarray(labels))
    for i, path in enumerate(paths):
        audio, label = ds.dataset[i]
        assert audio.dtype == torch.float32 and label.dtype == torch.int32
        assert int(label) == int(labels[i])
        np.testing.assert_array_equal(audio.numpy(), _samples(path) / 32768.0)


def test_both_subsets_partition_like_keras(audio_folder):
    train, val = keras.utils.audio_dataset_from_directory(
        audio_folder, seed=5, validation_split=0.25, subset="both", verbose=False)
    k_train = _keras_index(audio_folder, 5, split=0.25, subset="training")
    k_val = _keras_index(audio_folder, 5, split=0.25, subset="validation")
    assert train.file_paths == k_train[0] and val.file_paths == k_val[0]
    assert len(train.file_paths) + len(val.file_paths) == 12
    assert val.class_names == train.class_names == k_train[2]


def test_batches_pad_to_the_longest_clip(audio_folder):
    ds = keras.utils.audio_dataset_from_directory(audio_folder, batch_size=5, shuffle=False,
                                                  verbose=False)
    paths, labels, _ = _keras_index(audio_folder, None, shuffle=False)
    batches = list(ds)
    assert [a.shape[0] for a, _ in batches] == [5, 5, 2]
    start = 0
    for audio, label in batches:
        clips = [_samples(p) for p in paths[start:start + len(audio)]]
        longest = max(len(c) for c in clips)
        assert audio.shape == (len(clips), longest, 1)  # (batch, time, channels)
        for row, clip in zip(audio.numpy(), clips):
            np.testing.assert_array_equal(row[: len(clip)], clip / 32768.0)
            assert not row[len(clip):].any()
        np.testing.assert_array_equal(label.numpy(), labels[start:start + len(audio)])
        assert label.dtype == torch.int32
        start += len(audio)


@pytest.mark.parametrize("length", [3, 9, 40])
def test_output_sequence_length_truncates_and_pads(audio_folder, length):
    ds = keras.utils.audio_dataset_from_directory(
        audio_folder, batch_size=4, output_sequence_length=length, label_mode="categorical",
        seed=3, verbose=False)
    audio, label = next(iter(ds))
    assert audio.shape == (4, length, 1) and label.shape == (4, 3)
    assert label.dtype == torch.float32
    for i, path in enumerate(ds.file_paths):
        clip = _samples(path)[:length] / 32768.0
        got = ds.dataset[i][0].numpy()
        assert got.shape == (length, 1)
        np.testing.assert_array_equal(got[: len(clip)], clip)
        assert not got[len(clip):].any()


def test_stereo_no_labels_and_unbatched(tmp_path):
    root = tmp_path / "stereo"
    root.mkdir()
    _write_wav(root / "a.wav", np.array([[1, -1], [2, -2], [3, -3]]) * 1000)
    _write_wav(root / "b.wav", np.array([[5, 6]]))
    ds = keras.utils.audio_dataset_from_directory(root, labels=None, shuffle=False,
                                                  verbose=False)
    audio = next(iter(ds))
    assert isinstance(audio, torch.Tensor) and audio.shape == (2, 3, 2)
    np.testing.assert_array_equal(audio[0].numpy() * 32768, [[1000, -1000], [2000, -2000],
                                                             [3000, -3000]])
    np.testing.assert_array_equal(audio[1].numpy() * 32768, [[5, 6], [0, 0], [0, 0]])
    single = keras.utils.audio_dataset_from_directory(root, labels=None, shuffle=False,
                                                      batch_size=None, verbose=False)
    assert [tuple(a.shape) for a in single] == [(3, 2), (1, 2)]


def test_binary_labels_and_fit(tmp_path):
    root = tmp_path / "two"
    for c, name in enumerate(["cat", "dog"]):
        (root / name).mkdir(parents=True)
        for i in range(3):
            _write_wav(root / name / f"{i}.wav", np.full(6, 1000 * (2 * c - 1)))
    ds = keras.utils.audio_dataset_from_directory(
        root, label_mode="binary", batch_size=4, output_sequence_length=6, seed=0, verbose=False)
    audio, label = next(iter(ds))
    assert label.shape == (4, 1) and label.dtype == torch.float32
    np.testing.assert_array_equal(label.numpy()[:, 0], (audio.numpy()[:, 0, 0] > 0))
    model = keras.Sequential([keras.Input((6, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_sampling_rate_is_checked_not_resampled(audio_folder):
    ds = keras.utils.audio_dataset_from_directory(audio_folder, sampling_rate=8000,
                                                  shuffle=False, verbose=False)
    assert next(iter(ds))[0].shape[0] == 12  # all 12 files, one batch
    ds = keras.utils.audio_dataset_from_directory(audio_folder, sampling_rate=16000,
                                                  shuffle=False, verbose=False)
    with pytest.raises(ValueError, match=r"0\.wav is sampled at 8000 Hz but sampling_rate=16000"):
        ds.dataset[0]


@pytest.mark.parametrize(
    "kwargs,exception,match",
    [
        (dict(ragged=True), NotImplementedError, "ragged=True.*torch has no ragged"),
        (dict(ragged=True, output_sequence_length=4), ValueError,
         "both `ragged` and `output_sequence_length`"),
        (dict(sampling_rate=8000.0), ValueError, "sampling_rate=8000.0"),
        (dict(sampling_rate=0), ValueError, "sampling_rate=0"),
        (dict(output_sequence_length=-2), ValueError, "output_sequence_length=-2"),
        (dict(label_mode="sparse"), ValueError, "label_mode=sparse"),
        (dict(labels="folders"), ValueError, "labels=folders"),
        (dict(labels=[0, 1], class_names=["no"]), ValueError, "class_names"),
        (dict(class_names=["no", "maybe"]), ValueError, "class_names=\\['no', 'maybe'\\]"),
        (dict(label_mode="binary"), ValueError, "exactly 2 class_names"),
        (dict(validation_split=1.5, subset="training", seed=1), ValueError, "1.5"),
        (dict(validation_split=0.2, subset="testing", seed=1), ValueError, "testing"),
        (dict(validation_split=0.2, subset="training"), ValueError, "seed"),
        (dict(labels=[0, 1]), ValueError, "len\\(labels\\) is 2"),
    ],
)
def test_bad_arguments_name_the_value(audio_folder, kwargs, exception, match):
    with pytest.raises(exception, match=match):
        keras.utils.audio_dataset_from_directory(audio_folder, verbose=False, **kwargs)


def test_bad_folders_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        keras.utils.audio_dataset_from_directory(tmp_path / "missing", verbose=False)
    empty = tmp_path / "empty" / "a"
    empty.mkdir(parents=True)
    with pytest.raises(ValueError, match=r"No audio files found.*\.wav"):
        keras.utils.audio_dataset_from_directory(empty.parent, verbose=False)
    bad = tmp_path / "bad" / "a"
    bad.mkdir(parents=True)
    _write_wav(bad / "eight_bit.wav", np.arange(5), width=1)
    (bad / "junk.wav").write_bytes(b"RIFF not really")
    ds = keras.utils.audio_dataset_from_directory(bad.parent, shuffle=False, verbose=False)
    with pytest.raises(ValueError, match="eight_bit.wav holds 8-bit samples"):
        ds.dataset[0]
    with pytest.raises(ValueError, match="junk.wav"):
        ds.dataset[1]
