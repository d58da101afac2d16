"""Leaving keraslike: verified `torch.export` / ONNX artifacts (`model.export`).

`export_model(model, filepath, format="torch" | "onnx", input_signature=None)` is what
`model.export` runs; `to_torch_source(model, "model.py")` ejects the model as standalone PyTorch
source plus a safetensors `state_dict`. Exported artifacts take one positional tensor per model input (in the order
of `model.inputs`) and return one tensor per output (in the order of `model.outputs`).
"""

from keraslike.export.exporter import FORMATS, export_model
from keraslike.export.signature import InputSignature, signature_of
from keraslike.export.torch_source import to_torch_source, verify_torch_source
from keraslike.export.verify import ExportVerificationError

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

# Keras 3's `keras.export.ExportArchive` (TF SavedModel) raises an AttributeError that says so.
__getattr__ = _module_getattr("keraslike.export")
