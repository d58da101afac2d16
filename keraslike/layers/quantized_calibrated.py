"""GPTQ/AWQ storage, call and Keras file layout of Dense and EinsumDense, as Keras 3.15 has them.

A layer put in `"gptq"`/`"awq"` mode (`layer.quantize("gptq", config=...)`, done by
`model.quantize`) keeps its float kernel and gains the calibrated weights, which the
calibration (`keraslike/quantizers/gptq_core.py`, `awq_core.py`) fills; it then drops the
float kernel. Until then the layer computes with the float kernel, as Keras's does.

Storage (Keras's names, shapes and dtypes; the kernel seen as `(rows, columns)`: Dense
`(input_dim, units)`; EinsumDense the 2-D kernel, or a 3-D one flattened by Keras's rule):

- `kernel` (attribute `quantized_kernel`) uint8 `(columns, rows)`, for 4 bits two values per
  byte along the columns, the first in the low nibble: `((columns + 1) // 2, rows)`;
- `kernel_scale` float `(columns, groups)`, `kernel_zero` uint8 `(columns, groups)` (EinsumDense
  names this variable `zero_point`), `awq_scales` float `(rows,)` (AWQ only),
  `g_idx` float32 `(rows,)`: the group of each row (truncated).

The float kernel is `((q - zero[:, g]) * scale[:, g]).T`, divided row-wise by `awq_scales` for
AWQ. Keras files store `bias, kernel, kernel_scale, kernel_zero, [awq_scales,] g_idx`.
"""

import contextlib
import math

import torch

from keraslike.dtype_policies import AWQDTypePolicy, GPTQDTypePolicy
from keraslike.graph.shape_inference import torch_dtype
from keraslike.quantizers.gptq import dequantize_with_sz_map
from keraslike.quantizers.quantization_config import AWQConfig, GPTQConfig
from keraslike.quantizers.quantizers import unpack_int4

CALIBRATED_MODES = ("gptq", "awq")
_POLICIES = {"gptq": GPTQDTypePolicy, "awq": AWQDTypePolicy}
_CONFIGS = {"gptq": GPTQConfig, "awq": AWQConfig}


def calibration_settings(layer, config, mode):
    """`(weight_bits, group_size)` from a GPTQ/AWQ config, else from the layer's dtype policy.

    Raises:
        ValueError: When neither gives them (Keras's message).
    """
    if isinstance(config, _CONFIGS[mode]):
        return config.weight_bits, config.group_size
    policy = layer.dtype_policy
    if isinstance(policy, _POLICIES[mode]):
        return policy.weight_bits, policy.group_size
    raise ValueError(
        f"For {mode.upper()} quantization, the group_size and weight_bits must be specified "
        f"either through a `dtype_policy` of type `{_POLICIES[mode].__name__}` or the `config` "
        f'argument (layer "{layer.name}").'
    )


class CalibratedQuantizationMixin:
    """GPTQ/AWQ weights for a layer with one kernel; the layer defines `_calibrated_dims`."""

    is_gptq_calibrated = False
    is_awq_calibrated = False
    _calibrated_zero_name = "kernel_zero"

    def _calibrated_dims(self, kernel_shape):
        """`(rows, columns)`: the kernel seen as a matrix (inputs x outputs)."""
        raise NotImplementedError

    def _calibrated_build(self, kernel_shape, mode, config, calibrated):
        bits, group_size = calibration_settings(self, config, mode)
        rows, columns = self._calibrated_dims(kernel_shape)
        groups = 1 if group_size == -1 else math.ceil(rows / group_size)
        self._calib_shape = (rows, columns, tuple(kernel_shape), bits)
        packed = (columns + 1) // 2 if bits == 4 else columns
        float_spec = self._float_kernel_spec()
        # Next to the float kernel (a model moved to a GPU before `quantize`), else the default.
        place = (torch.device(self._find_tensor(float_spec.attr).device) if float_spec is not None
                 else contextlib.nullcontext())
        with place:
            self.add_weight(shape=(packed, rows), initializer="zeros", dtype="uint8",
                            trainable=False, name="kernel", torch_name="quantized_kernel")
            self.add_weight(shape=(columns, groups), initializer="ones", trainable=False,
                            name="kernel_scale")
            self.add_weight(shape=(columns, groups), initializer="zeros", dtype="uint8",
                            trainable=False, name=self._calibrated_zero_name,
                            torch_name="kernel_zero")
            if mode == "awq":
                self.add_weight(shape=(rows,), initializer="ones", trainable=False,
                                name="awq_scales")
            self.add_weight(shape=(rows,), initializer="zeros", dtype="float32", trainable=False,
                            name="g_idx")
        self._set_calibrated(mode, calibrated)

    def _set_calibrated(self, mode, value):
        self.is_gptq_calibrated = value and mode == "gptq"
        self.is_awq_calibrated = value and mode == "awq"

    def _is_calibrated(self):
        return self.is_gptq_calibrated or self.is_awq_calibrated

    def _float_kernel_spec(self):
        return next((s for s in self._weight_specs
                     if s.name == "kernel" and s.attr != "quantized_kernel"), None)

    def _calibration_kernel(self):
        """The float kernel as `(rows, columns)` (what GPTQ/AWQ quantize), detached."""
        spec = self._float_kernel_spec()
        if spec is None:
            raise ValueError(f'Layer "{self.name}" has no float kernel left to calibrate.')
        rows, columns = self._calib_shape[:2]
        return spec.layout.to_keras(self._find_tensor(spec.attr)).detach().reshape(rows, columns)

    def _store_calibrated(self, quantized, scale, zero, g_idx, awq_scales=None):
        """Takes the calibration's result and drops the float kernel (Keras's `del _kernel`)."""
        with torch.no_grad():
            self.quantized_kernel.copy_(quantized)
            self.kernel_scale.copy_(scale)
            self.kernel_zero.copy_(zero)
            self.g_idx.copy_(g_idx)
            if awq_scales is not None:
                self.awq_scales.copy_(awq_scales)
        spec = self._float_kernel_spec()
        if spec is not None:
            self._weight_specs.remove(spec)
            table = self._parameters if spec.attr in self._parameters else self._buffers
            del table[spec.attr]
        self._set_calibrated(self._quant_mode, True)

    def _unpacked_quantized(self):
        """The quantized values `(columns, rows)` (uint8), unpacked when 4-bit."""
        rows, columns, _, bits = self._calib_shape
        if bits == 4:
            return unpack_int4(self.quantized_kernel, columns, axis=0, dtype="uint8")
        return self.quantized_kernel

    def _calibrated_float_kernel(self):
        """The float kernel in Keras's layout (the float one itself before calibration)."""
        dtype = torch_dtype(self.compute_dtype)
        _, _, kernel_shape, _ = self._calib_shape
        if not self._is_calibrated():
            spec = self._float_kernel_spec()
            return spec.layout.to_keras(self._find_tensor(spec.attr)).to(dtype)
        flat = dequantize_with_sz_map(
            self._unpacked_quantized(), self.kernel_scale, self.kernel_zero, self.g_idx
        ).t()
        if self._quant_mode == "awq":
            flat = flat / self.awq_scales.unsqueeze(-1)
        return flat.reshape(kernel_shape).to(dtype)

    def _calibrated_kernel_value(self):
        """Keras's `layer.kernel` in GPTQ/AWQ mode: the unpacked quantized values once calibrated."""
        if self._is_calibrated():
            return self._unpacked_quantized()
        spec = self._float_kernel_spec()
        return spec.layout.to_keras(self._find_tensor(spec.attr))

    def _calibrated_store_names(self):
        names = ["bias"] if self.bias is not None else []
        names += ["kernel", "kernel_scale", self._calibrated_zero_name]
        if self._quant_mode == "awq":
            names.append("awq_scales")
        return names + ["g_idx"]

    def _calibrated_store_value(self, name):
        if not self._is_calibrated():
            raise ValueError(
                f'Layer "{self.name}" is in {self._quant_mode.upper()} mode but was never '
                "calibrated (it is outside the quantization structure's blocks or was filtered "
                "out of the calibration): its float kernel has no place in the quantized file "
                "layout. Keep it out of `model.quantize` with `filters`, or calibrate it."
            )
        if name == "bias":
            return self.bias
        spec = next(s for s in self._weight_specs if s.name == name)
        return self._find_tensor(spec.attr)

    def _load_calibrated(self, store):
        names = self._calibrated_store_names()
        if len(store) != len(names):
            missing = "kernel_zero" if len(store) == len(names) - 1 else None
            hint = (
                " Keras 3.15 writes GPTQ/AWQ layers without their `kernel_zero` (its own loader "
                "refuses such files too); the zero points cannot be recovered."
                if missing else ""
            )
            raise ValueError(
                f'Layer "{self.name}" expected {len(names)} variables ({names}), but received '
                f"{len(store)} variables during loading.{hint}"
            )
        float_spec = self._float_kernel_spec()
        if float_spec is not None:  # a layer loaded after `quantize` but before calibration
            self._weight_specs.remove(float_spec)
            table = self._parameters if float_spec.attr in self._parameters else self._buffers
            del table[float_spec.attr]
        specs = {s.name: s for s in self._weight_specs}
        with torch.no_grad():
            for i, name in enumerate(names):
                target = self.bias if name == "bias" else self._find_tensor(specs[name].attr)
                value = torch.as_tensor(store[str(i)])
                if tuple(value.shape) != tuple(target.shape):
                    raise ValueError(
                        f'Layer "{self.name}" weight "{name}" has shape {tuple(target.shape)}, '
                        f"but the stored value has shape {tuple(value.shape)}."
                    )
                target.copy_(value.to(target.device, target.dtype))
        self._set_calibrated(self._quant_mode, True)

    def load_own_variables(self, store):
        """Reads Keras's layout; GPTQ/AWQ layers come out calibrated, as in Keras."""
        if self.built and self._quant_mode in CALIBRATED_MODES:
            return self._load_calibrated(store)
        return super().load_own_variables(store)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros"):
        """Adds LoRA adapters (see `LoraMixin.enable_lora`); not with GPTQ, as in Keras.

        Raises:
            NotImplementedError: For a GPTQ- or AWQ-quantized layer.
        """
        if self._quant_mode in CALIBRATED_MODES:
            raise NotImplementedError(
                f"lora is not currently supported with {self._quant_mode.upper()} quantization "
                f'(layer "{self.name}").'
            )
        return super().enable_lora(rank, lora_alpha, a_initializer, b_initializer)
