"""`.keras` archives carry the files of layers' `save_assets` under `assets/<layer path>/`, as
Keras writes them, and `load_assets` gets them back; both ways with Keras 3. keraslike ignored
both methods: a restored layer lost what it kept there (the saving guide's vocabulary)."""

import os
import zipfile

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _model(lib, vocab="Mary had a <unk> lamb."):
    @lib.saving.register_keras_serializable(package="archive_assets")
    class LayerWithCustomAssets(lib.layers.Dense):
        def __init__(self, vocab=None, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.vocab = vocab

        def save_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
                f.write(self.vocab)

        def load_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt"), "r") as f:
                text = f.read()
            self.vocab = text.replace("<unk>", "little")

    model = lib.Sequential([LayerWithCustomAssets(vocab=vocab, units=5)])
    model(np.ones((2, 10), "float32"))
    return model


@pytest.mark.parametrize("writer,reader", [(keraslike, keraslike), (keraslike, keras), (keras, keraslike)])
def test_assets_round_trip(tmp_path, writer, reader):
    path = str(tmp_path / "model.keras")
    _model(writer).save(path)
    names = zipfile.ZipFile(path).namelist()
    assert any(n.endswith("layers/layer_with_custom_assets/vocabulary.txt") for n in names), names
    _model(reader, vocab=None)  # registers the class in the reading library
    restored = reader.models.load_model(path)
    assert restored.layers[0].vocab == "Mary had a little lamb."


def test_archive_without_assets_keeps_keras_three_members(tmp_path):
    path = str(tmp_path / "model.keras")
    plain = keraslike.Sequential([keraslike.Input((3,)), keraslike.layers.Dense(2)])
    plain.save(path)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
