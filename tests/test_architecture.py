"""The package's dependency rule (keraslike/README.md), checked on the source.

Every `import` of a keraslike module counts, also those inside function bodies: an import moved
into a function still makes the two modules depend on each other. `from a.b import c` is an edge
to `a.b.c` when that is a module, else to `a.b`, so a package's `__init__` counts only when it is
imported itself. A package's lazy subpackages (`lazy_submodules(__name__, ("applications", ...))`,
keraslike/_lazy.py) count as imports of those subpackages at the top of the package.
"""

import ast
import pathlib

import keraslike

ROOT = pathlib.Path(keraslike.__file__).parent

# Cycles being removed (the module sets, exactly): none left. Any cycle fails.
_BEING_REMOVED = {}

# Imports that may stay inside functions: optional or heavy third-party modules, and standard
# library modules needed only on a rare path.
_OPTIONAL = {
    "h5py", "pydot", "PIL", "onnx", "onnxruntime", "onnxscript", "torchvision", "sklearn",
    "IPython", "scipy", "pandas", "tensorboard", "torch.utils.tensorboard", "safetensors",
    "safetensors.torch", "torch.distributed", "torch.backends.cudnn.rnn", "torch.nn.attention",
    "torch._dynamo", "torch.onnx", "torch.export", "tqdm", "matplotlib", "requests",
    # Required, but about a second to import and needed only for bfloat16 NumPy arrays.
    "ml_dtypes",
    # FSDP2 and DTensor: seconds to import, needed only once a model is sharded.
    "torch.distributed.fsdp", "torch.distributed.tensor", "torch.distributed.device_mesh",
}


def _modules():
    mods = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("keraslike",) + path.relative_to(ROOT).with_suffix("").parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        mods[name] = path
    return mods


def _lazy_targets(node, name):
    """The subpackages named by a `lazy_submodules(__name__, (...))` call, else `[]`."""
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("lazy_submodules", "_lazy_submodules")):
        return []
    package, names = node.args
    assert isinstance(package, ast.Name) and package.id == "__name__" or (
        isinstance(package, ast.Constant) and package.value == name
    ), f"{name}: lazy_submodules must name the package itself"
    assert isinstance(names, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Constant) for e in names.elts
    ), f"{name}: lazy_submodules takes a literal tuple of names (the architecture test reads it)"
    return [f"{name}.{e.value}" for e in names.elts]


def _imports(mods):
    """Yields `(module, imported module, deferred?, line)` for every keraslike import."""
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deferred = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                deferred.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
        package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = name.split(".") if package else name.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in mods else base)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                targets = _lazy_targets(node, name)
            for target in targets:
                if target != name:
                    yield name, target, id(node) in deferred, node.lineno


def _cycles(edges):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(frozenset(component))
    return result


def test_no_import_cycles():
    mods = _modules()
    edges = {m: set() for m in mods}
    lines = {}
    for source, target, _, line in _imports(mods):
        if target in mods:
            edges[source].add(target)
            lines[(source, target)] = line
    unexpected = [c for c in _cycles(edges) if c not in _BEING_REMOVED]
    report = []
    for component in unexpected:
        report.append(f"cycle of {len(component)} modules:")
        for source in sorted(component):
            for target in sorted(edges[source] & component):
                report.append(f"  {source}:{lines[(source, target)]} imports {target}")
    assert not unexpected, (
        "keraslike's imports must point one way (keraslike/README.md); these modules import "
        "each other (counting imports inside functions):\n" + "\n".join(report)
    )


def test_deferred_imports_are_optional_dependencies():
    """An import inside a function is for an optional dependency, never to hide a cycle."""
    mods = _modules()
    bad = []
    for source, target, deferred, line in _imports(mods):
        if not deferred:
            continue
        internal = target == "keraslike" or target.startswith("keraslike.")
        if internal:
            bad.append(f"{source}:{line} imports {target} inside a function")
    assert not bad, (
        "Import keraslike modules at the top of the file; if that makes a cycle, the dependency "
        "points the wrong way (keraslike/README.md):\n" + "\n".join(bad)
    )
    # Third-party imports inside functions must be optional dependencies (or stdlib).
    stdlib = __import__("sys").stdlib_module_names
    third = [
        f"{source}:{line} {target}"
        for source, target, deferred, line in _imports(mods)
        if deferred
        and not (target == "keraslike" or target.startswith("keraslike."))
        and target.split(".")[0] not in stdlib
        and target not in _OPTIONAL
        and target.split(".")[0] not in {"h5py", "pydot", "PIL", "onnx", "onnxruntime",
                                          "torchvision", "sklearn", "IPython"}
    ]
    assert not third, "Deferred imports of required dependencies:\n" + "\n".join(third)


def test_lazy_subpackages_are_read_as_imports():
    """`keraslike.applications` is imported lazily by the root, and the graph still has the edge."""
    edges = {(s, t) for s, t, _, _ in _imports(_modules())}
    assert ("keraslike", "keraslike.applications") in edges
    assert ("keraslike", "keraslike.datasets") in edges


def test_keraslike_modules_are_imported_only_by_import_statements():
    """No `importlib.import_module("keraslike...")` or `__import__` the graph cannot see."""
    bad = []
    for name, path in _modules().items():
        if name == "keraslike._lazy":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__",
            ):
                bad.append(f"{name}:{node.lineno}")
    assert not bad, "Import keraslike modules with `import` (or `_lazy.lazy_submodules`):\n" + "\n".join(bad)


def test_saving_and_serialization_never_import_models():
    """The formats and the serialized-object code work on any layer by its protocol."""
    mods = _modules()
    bad = [
        f"{source}:{line} imports {target}"
        for source, target, _, line in _imports(mods)
        if source.startswith(("keraslike.serialization", "keraslike.saving"))
        and (target == "keraslike" or target.startswith(("keraslike.models", "keraslike.trainers",
                                                         "keraslike.applications")))
    ]
    assert not bad, "\n".join(bad)
