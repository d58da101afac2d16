"""Names Keras 3 has that keraslike leaves out on purpose, and the `AttributeError` they raise.

Each public namespace that has such names installs `module_getattr(__name__)` as its module
`__getattr__`, so `keras.layers.JaxLayer` fails with a message that says why the name is absent
and points to `docs/porting.md` instead of a bare "module has no attribute". The same table is the
exclusion list of `tests/test_api_coverage.py` (names here do not count against API coverage).

This module imports nothing from keraslike, so any package may use it.
"""

PORTING_GUIDE = "docs/porting.md (section 'Names keraslike leaves out on purpose')"

# namespace (keraslike module name) -> {Keras name: why keraslike does not have it}
DELIBERATELY_ABSENT = {
    "keraslike": {
        "StatelessScope": "a JAX-style functional-state scope; keraslike layers are torch modules "
        "(use `torch.func.functional_call` for stateless calls)",
        "SymbolicScope": "an internal scope of Keras's JAX/TF tracing; keraslike decides symbolic "
        "vs eager by the type of the inputs",
    },
    "keraslike.layers": {
        "JaxLayer": "wraps a JAX function; keraslike runs only on PyTorch "
        "(wrap a torch.nn.Module instead)",
        "FlaxLayer": "wraps a Flax module; keraslike runs only on PyTorch "
        "(wrap a torch.nn.Module instead)",
        "TFSMLayer": "loads a TensorFlow SavedModel; keraslike has no TensorFlow dependency",
    },
    "keraslike.callbacks": {
        "OrbaxCheckpoint": "writes JAX Orbax checkpoints; use ModelCheckpoint or BackupAndRestore",
    },
    "keraslike.config": {
        "set_backend": "keraslike has exactly one backend, PyTorch "
        "(`keras.config.backend()` returns 'torch')",
        "is_nnx_enabled": "Flax NNX is a JAX-backend option; keraslike runs only on PyTorch",
    },
    "keraslike.export": {
        "ExportArchive": "builds a TensorFlow SavedModel; use `model.export(path, format='torch' | "
        "'onnx')` (verified torch.export / ONNX artifacts)",
    },
}


def absent_reason(namespace, name):
    """Returns why `name` is deliberately absent from `namespace`, or `None` if it is not."""
    return DELIBERATELY_ABSENT.get(namespace, {}).get(name)


def missing_attribute_error(namespace, name):
    """The `AttributeError` for `namespace.name`, explaining a deliberate absence when there is one."""
    reason = absent_reason(namespace, name)
    if reason is None:
        return AttributeError(f"module '{namespace}' has no attribute '{name}'")
    keras_name = "keras" + namespace[len("keraslike"):]
    return AttributeError(
        f"`{keras_name}.{name}` exists in Keras 3 but not in keraslike, on purpose: {reason}. "
        f"See {PORTING_GUIDE}."
    )


def module_getattr(namespace, fallback=None):
    """Returns a module `__getattr__` for `namespace` that raises `missing_attribute_error`.

    Args:
        namespace: The module's `__name__`.
        fallback: Optional callable `fallback(name)` tried first (a namespace's lazy names);
            it raises `AttributeError` for names it does not know.
    """

    def __getattr__(name):
        if fallback is not None:
            try:
                return fallback(name)
            except AttributeError:
                pass
        raise missing_attribute_error(namespace, name)

    return __getattr__
