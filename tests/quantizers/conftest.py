"""Keras's GPTQ/AWQ on torch as the oracle, with its activation streaming made to work."""

import contextlib

import pytest


@pytest.fixture(autouse=True)
def _keras_streams_calibration_inputs(monkeypatch):
    """Keras 3.15 never streams calibration inputs: its `stream_hessians` and
    `stream_activations` patch `layer.call`, but a layer in GPTQ/AWQ mode is called through
    `quantized_call` (`keras/src/ops/operation.py`), so GPTQ's Hessians and AWQ's activation
    magnitudes stay zero (plain rounding; Keras skips its own GPTQ/AWQ model tests on torch).
    The oracle here is Keras's algorithm with the streaming working: the same `(-1, rows)`
    inputs, fed through torch forward pre-hooks."""
    keras = pytest.importorskip("keras")
    del keras
    from keras.src.quantizers import awq_core, gptq_core

    def streamer(update):
        @contextlib.contextmanager
        def stream(layers_map, states):
            def hook_for(name):
                def hook(module, args):
                    state = states[name]
                    getattr(state, update)(args[0].reshape(-1, state.rows))
                return hook

            handles = [layer.register_forward_pre_hook(hook_for(name))
                       for name, layer in layers_map.items()]
            try:
                yield
            finally:
                for handle in handles:
                    handle.remove()

        return stream

    monkeypatch.setattr(gptq_core, "stream_hessians", streamer("update_hessian_with_batch"))
    monkeypatch.setattr(awq_core, "stream_activations", streamer("update_activation_magnitudes"))
