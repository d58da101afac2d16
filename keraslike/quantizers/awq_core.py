"""AWQ calibration of a model, block by block, as Keras 3.15's `awq_core.py` does it.

The same loop as GPTQ's (`gptq_core.calibrate_blocks`: calibration windows, pre-block layers,
one block at a time, forward pre-hooks on the block's AWQ-mode layers, the quantized block
feeding the next); each layer collects its inputs' per-channel largest magnitudes and is then
quantized by the AWQ scale search (`awq.py`).
"""

from keraslike.quantizers.awq import AWQ
from keraslike.quantizers.gptq_core import calibrate_blocks, calibration_data


class _AWQState(AWQ):
    def observe(self, x):
        self.update_activation_magnitudes(x)

    def quantize(self):
        self.quantize_layer()


def apply_awq_layerwise(dataloader, config, structure, filters=None):
    """Calibrates and quantizes the structure's blocks one after the other with AWQ.

    Raises:
        ValueError: When the structure has no sequential blocks.
    """
    calibrate_blocks(dataloader, structure, "awq", config.num_samples,
                     lambda layer: _AWQState(layer, config), filters)


def awq_quantize(config, structure, filters=None):
    """Runs AWQ calibration for `model.quantize("awq", config)` on a resolved structure.

    Raises:
        ValueError: Without a dataset/tokenizer, or a usable structure.
    """
    dataloader = calibration_data(config, structure, "awq")
    apply_awq_layerwise(dataloader, config, structure, filters=filters)
