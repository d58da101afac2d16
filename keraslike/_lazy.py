"""Subpackages a package imports on first use (PEP 562), to keep `import keraslike` cheap.

A package lists the families a user may never touch (`applications`, `datasets`, ...) with
`lazy_submodules(__name__, ("applications", ...))` and uses the returned function in its module
`__getattr__`: `keras.applications` and `from keraslike import applications` import the
subpackage on first access and store it on the package, so later accesses are plain attribute
reads. `import keraslike.applications` works as for any subpackage.

The names are string literals in the call, which `tests/test_architecture.py` reads as imports
of those subpackages: a lazy edge counts in the import graph like any other, so it cannot hide
a cycle.

This module imports nothing from keraslike, so any package may use it.
"""

import importlib
import sys


def lazy_submodules(package, names):
    """Returns `load(name)`: the subpackage `package.name` for a lazy `name`, imported on first use.

    Args:
        package: The package's `__name__`.
        names: The subpackage names (string literals) imported only when first accessed.

    Returns:
        A function for the package's `__getattr__`; it raises `AttributeError` for other names.
    """
    names = frozenset(names)

    def load(name):
        if name not in names:
            raise AttributeError(name)
        module = importlib.import_module(f"{package}.{name}")
        setattr(sys.modules[package], name, module)
        return module

    load.names = names
    load.package = package
    return load


def lazy_exports(load, exports):
    """Returns `get(name)` for the names a package re-exports from its lazy subpackages.

    `keras.layers.TextVectorization` imports `keraslike.layers.preprocessing` on first access
    (through `load`, so the architecture test sees the edge) and stores the class on the
    package; a lazy subpackage itself is returned as `load` returns it.

    Args:
        load: The function `lazy_submodules` returned for the package.
        exports: Dict lazy subpackage name -> tuple of the names the package re-exports from it.

    Returns:
        A function for the package's `__getattr__` (`AttributeError` for unknown names); its
        `names` are the re-exported names and the lazy subpackages, `exported` the names alone.
    """
    owner = {name: sub for sub, names in exports.items() for name in names}

    def get(name):
        sub = owner.get(name)
        if sub is None:
            return load(name)
        value = getattr(load(sub), name)
        setattr(sys.modules[load.package], name, value)
        return value

    get.exported = frozenset(owner)
    get.names = get.exported | load.names
    return get
