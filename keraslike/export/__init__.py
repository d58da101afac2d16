"""Leaving keraslike: verified `torch.export` / ONNX artifacts (`model.export`).

`export_model(model, filepath, format="torch" | "onnx", input_signature=None)` is what
`model.export` runs; `to_torch_source(model, "model.py")` ejects the model as standalone PyTorch
source plus a safetensors `state_dict`. Exported artifacts take one positional tensor per model input (in the order
of `model.inputs`) and return one tensor per output (in the order of `model.outputs`).
"""

__all__ = [
    "FORMATS",
    "ExportVerificationError",
    "InputSignature",
    "export_model",
    "signature_of",
    "to_torch_source",
    "verify_torch_source",
]

from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402
from keraslike._lazy import lazy_exports as _lazy_exports  # noqa: E402
from keraslike._lazy import lazy_submodules as _lazy_submodules  # noqa: E402

# Everything loads on first use (keraslike/README.md), so `import keraslike` pays nothing for
# export; ejecting to torch source names every layer family (the preprocessing layers included,
# which load lazily themselves).
_load_lazy = _lazy_exports(
    _lazy_submodules("keraslike.export", ("exporter", "signature", "torch_source", "verify")),
    {
        "exporter": ("FORMATS", "export_model"),
        "signature": ("InputSignature", "signature_of"),
        "torch_source": ("to_torch_source", "verify_torch_source"),
        "verify": ("ExportVerificationError",),
    },
)
# Keras 3's `keras.export.ExportArchive` (TF SavedModel) raises an AttributeError that says so.
__getattr__ = _module_getattr("keraslike.export", fallback=_load_lazy)


def __dir__():
    return sorted(set(globals()) | _load_lazy.names)
