"""Optimizer slots in Keras files take their weight's layout without an affine layout's constant
(Keras's LSTM bias is torch's `bias_ih + bias_hh`; its Adam momentum is `bias_ih`'s)."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.saving import keras_h5

pytest.importorskip("h5py")


def _lstm_model():
    inputs = keraslike.Input((3, 2))
    model = keraslike.Model(inputs, keraslike.layers.LSTM(2, name="lstm")(inputs))
    model.compile(optimizer=keraslike.optimizers.Adam(0.1), loss="mse")
    with torch.no_grad():
        model.get_layer("lstm").bias_hh_l0.fill_(5.0)  # as after loading a torch state dict
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3, 2)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    return model


def test_slots_of_a_summed_bias_are_written_and_read_without_the_constant(tmp_path):
    model = _lstm_model()
    lstm = model.get_layer("lstm")
    slots = model.optimizer.get_slot_state()
    momentum = slots["lstm_lstm_cell_bias_momentum"].clone()
    arrays = keras_h5.optimizer_arrays(model, model.optimizer)
    written = [a for a in arrays if tuple(a.shape) == (8,)]
    assert any(torch.equal(a, momentum) for a in written)  # not `momentum + 5`
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with torch.no_grad():
        slots["lstm_lstm_cell_bias_momentum"].zero_()
    model.load_weights(path)
    torch.testing.assert_close(model.optimizer.get_slot_state()["lstm_lstm_cell_bias_momentum"],
                               momentum)
    assert float(lstm.bias_hh_l0[0]) == 5.0
