"""`audio_dataset_from_directory`: `.wav` files in class folders as a batched torch `DataLoader`
(Keras 3's arguments, file order, labels and split; no TensorFlow: the standard library's `wave`
module reads the files)."""

import wave

import numpy as np
import torch
from torch.utils.data import default_collate

from keraslike.utils import directory_dataset

ALLOWED_FORMATS = (".wav",)


def read_wav(path, desired_samples=None):
    """Reads a 16-bit PCM `.wav` file as TensorFlow's `decode_wav` (what Keras uses) does.

    Args:
        path: The file.
        desired_samples: `None` (all frames) or the number of frames to return: longer files
            are truncated, shorter ones padded with zeros at the end.

    Returns:
        `(audio, sample_rate)`: a float32 tensor `(frames, channels)` with values
        `int16 / 32768` in `[-1, 1)`, and the file's rate in Hz.
    """
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            frames = f.getnframes()
            if desired_samples is not None:
                frames = min(frames, desired_samples)
            data = f.readframes(frames)
    except (wave.Error, EOFError) as e:
        raise ValueError(
            f"Cannot read {path} as a WAV file ({e}); audio_dataset_from_directory reads "
            "16-bit PCM .wav files."
        ) from e
    if width != 2:
        raise ValueError(
            f"{path} holds {8 * width}-bit samples; audio_dataset_from_directory reads 16-bit "
            "PCM .wav files (as TensorFlow's decode_wav, which Keras uses)."
        )
    if len(data) != frames * channels * width:
        raise ValueError(
            f"{path} is truncated: its header announces {frames} frames, the file holds "
            f"{len(data) // (channels * width)}."
        )
    samples = np.frombuffer(data, dtype="<i2").reshape(frames, channels)
    audio = torch.from_numpy(samples.astype("float32") / 32768.0)  # (frames, channels)
    if desired_samples is not None and frames < desired_samples:
        audio = torch.nn.functional.pad(audio, (0, 0, 0, desired_samples - frames))
    return audio, rate


class AudioFileDataset(directory_dataset.FileDataset):
    """Map-style dataset of `.wav` files as float32 `(time, channels)` tensors."""

    def __init__(self, file_paths, labels, label_mode, num_classes, sampling_rate,
                 output_sequence_length):
        super().__init__(file_paths, labels, label_mode, num_classes)
        self.sampling_rate = sampling_rate
        self.output_sequence_length = output_sequence_length

    def load(self, path):
        audio, rate = read_wav(path, self.output_sequence_length)
        if self.sampling_rate is not None and rate != self.sampling_rate:
            # Keras resamples with tensorflow-io; a silently mis-timed signal is worse than this.
            raise ValueError(
                f"{path} is sampled at {rate} Hz but sampling_rate={self.sampling_rate}: "
                "keraslike does not resample (Keras needs tensorflow-io for it). Resample the "
                "files beforehand, or pass `sampling_rate=None`."
            )
        return audio


def _pad_stack(clips):
    """`(batch, longest, channels)`: clips zero-padded at the end to the longest one."""
    longest = max(clip.shape[0] for clip in clips)
    return torch.stack([
        torch.nn.functional.pad(clip, (0, 0, 0, longest - clip.shape[0])) for clip in clips
    ])


def collate_audio(samples):
    """Batches `(audio, label)` samples (or bare audio) as `tf.data`'s `padded_batch` does."""
    if isinstance(samples[0], torch.Tensor):
        return _pad_stack(samples)
    audio = _pad_stack([clip for clip, _ in samples])
    return audio, default_collate([label for _, label in samples])


def _check_audio_arguments(sampling_rate, output_sequence_length, ragged):
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise NotImplementedError(
            "audio_dataset_from_directory(ragged=True) is not supported: torch has no ragged "
            "tensors. Use `ragged=False` (batches padded to their longest clip) or "
            "`output_sequence_length`, or `batch_size=None` for unpadded clips."
        )
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int) or isinstance(sampling_rate, bool):
            raise ValueError(
                "`sampling_rate` should have an integer value. "
                f"Received: sampling_rate={sampling_rate}"
            )
        if sampling_rate <= 0:
            raise ValueError(
                f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}"
            )
    if output_sequence_length is not None and (
        not isinstance(output_sequence_length, int) or isinstance(output_sequence_length, bool)
        or output_sequence_length <= 0
    ):
        raise ValueError(
            "`output_sequence_length` should be a positive integer or None. "
            f"Received: output_sequence_length={output_sequence_length}"
        )


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Generates a dataset from audio files in a directory.

    With `main_directory/class_a/*.wav` and `main_directory/class_b/*.wav`,
    `audio_dataset_from_directory(main_directory)` yields batches of audio with labels 0
    (`class_a`) and 1 (`class_b`). Only `.wav` files are read, 16-bit PCM (any number of
    channels), with the standard library's `wave` module; values are `int16 / 32768` as
    TensorFlow's `decode_wav` gives them to Keras. Another sample format is a ValueError naming
    the file.

    The result is a `torch.utils.data.DataLoader` (not a `tf.data.Dataset`) with Keras's
    `class_names` and `file_paths` attributes and a per-batch `.map(fn)`; `fit`, `evaluate` and
    `predict` take it, and its `.dataset` is a map-style `torch.utils.data.Dataset` of
    `(audio, label)` samples for a loader of your own. File order, labels, class names and the
    training/validation split are Keras's for the same `seed`; with `shuffle` the batches are
    reshuffled each epoch by a generator seeded with `seed`.

    Args:
        directory: Folder with the data (with one subfolder per class if `labels="inferred"`).
        labels: `"inferred"`, `None` (no labels) or a list/tuple of integer labels, one per
            file in the sorted order of the file paths.
        label_mode: `"int"` (int32 `(batch,)`), `"categorical"` (float32 one-hot
            `(batch, num_classes)`), `"binary"` (float32 `(batch, 1)`, exactly 2 classes) or
            `None` (audio only).
        class_names: With `labels="inferred"`, the subfolders to use, in this label order.
        batch_size: Clips per batch (default 32); `None` yields single clips.
        sampling_rate: Expected sampling rate in Hz (a positive int). Keras resamples with
            tensorflow-io; keraslike does not resample, and a file at another rate is a
            ValueError naming it.
        output_sequence_length: Clips are truncated or zero-padded to this many samples. With
            `None`, each batch is zero-padded to its longest clip.
        ragged: Must be `False`: `True` raises `NotImplementedError` (torch has no ragged
            tensors).
        shuffle: Whether to shuffle (default `True`); otherwise the sorted file order.
        seed: Random seed for shuffling (required with `validation_split` and `shuffle`).
        validation_split: Fraction of the files reserved for validation.
        subset: `"training"`, `"validation"` or `"both"` (a `(train, validation)` pair).
        follow_links: Whether to visit subfolders that are symbolic links.
        verbose: Whether to print how many files and classes were found.

    Returns:
        A `torch.utils.data.DataLoader` yielding float32 audio `(batch, time, channels)` or
        `(audio, labels)`; a pair of them with `subset="both"`.

    Example:

    >>> train, val = keras.utils.audio_dataset_from_directory(
    ...     "speech_commands/", output_sequence_length=16000, validation_split=0.2,
    ...     subset="both", seed=0)
    >>> audio, labels = next(iter(train))
    >>> audio.shape
    torch.Size([32, 16000, 1])
    """
    labels, label_mode = directory_dataset.check_labels_arguments(labels, label_mode, class_names)
    _check_audio_arguments(sampling_rate, output_sequence_length, ragged)
    directory_dataset.check_validation_split_arg(validation_split, subset, shuffle, seed)
    collate = collate_audio if batch_size is not None else None
    return directory_dataset.load_directory(
        directory, labels=labels, label_mode=label_mode, class_names=class_names,
        formats=ALLOWED_FORMATS, shuffle=shuffle, seed=seed, follow_links=follow_links,
        verbose=verbose, validation_split=validation_split, subset=subset, batch_size=batch_size,
        make_dataset=lambda paths, labels, num_classes: AudioFileDataset(
            paths, labels, label_mode, num_classes, sampling_rate, output_sequence_length),
        what="audio files", allowed=f"Allowed format(s): {ALLOWED_FORMATS}", collate_fn=collate,
    )
