"""Reads Keras 3's own layer tests and writes their `run_layer_test(...)` cases as a data table.

Usage:

    python scripts/extract_keras_layer_specs.py [--keras-src DIR] [--out FILE]

The Keras test files (`keras/src/layers/**/*_test.py`, shipped in the installed `keras` wheel)
are parsed with `ast`, never imported or executed. For every `self.run_layer_test(...)` call the
arguments are evaluated as literals, with names bound from the test's
`@parameterized.parameters / named_parameters / product` cases, the test function's defaults
and literal assignments above the call, and module-level literal constants. References such as
`layers.Dense` or `constraints.NonNeg()` are kept as small tagged dicts
(`{"__ref__": "layers.Dense"}`, `{"__obj__": "constraints.NonNeg", "args": [], "kwargs": {}}`)
that the spec harness resolves against keraslike from a whitelist of modules. Simple numpy
constructors (`np.ones(shape)`, `np.random.random(shape)`, `np.array(literal)`) are kept as
`{"__np__": ...}` so inputs can be rebuilt. A case whose layer or shapes cannot be read this way
goes to `UNPARSED` with the reason; an unreadable `expected_output` alone is dropped (noted in
the spec's `dropped` list).

The result, `tests/layers/keras_layer_specs_table.py`, is plain data: regenerate it when the
Keras version pinned in pyproject.toml changes.
"""

import argparse
import ast
import itertools
import os
import pprint
import sys

_REF_MODULES = {"layers", "initializers", "constraints", "regularizers", "activations", "ops"}
_NP_CONSTRUCTORS = {
    ("np", "ones"): "ones",
    ("np", "zeros"): "zeros",
    ("np", "array"): "array",
    ("np", "asarray"): "array",
    ("np", "arange"): "arange",
    ("np.random", "random"): "random",
    ("np.random", "rand"): "rand",
    ("np.random", "randn"): "randn",
    ("np.random", "uniform"): "uniform",
    ("np.random", "normal"): "normal",
    ("np.random", "standard_normal"): "standard_normal",
    ("np.random", "randint"): "randint",
    ("ops", "ones"): "ones",
    ("ops", "zeros"): "zeros",
    ("ops", "array"): "array",
    ("ops", "convert_to_tensor"): "array",
    ("backend", "convert_to_tensor"): "array",
}
_SPEC_FIELDS = (
    "init_kwargs",
    "input_shape",
    "input_dtype",
    "input_sparse",
    "input_ragged",
    "input_data",
    "call_kwargs",
    "expected_output_shape",
    "expected_output_dtype",
    "expected_output_sparse",
    "expected_output_ragged",
    "expected_output",
    "expected_num_trainable_weights",
    "expected_num_non_trainable_weights",
    "expected_num_non_trainable_variables",
    "expected_num_seed_generators",
    "expected_num_losses",
    "supports_masking",
    "expected_mask_shape",
    "custom_objects",
    "run_training_check",
    "run_mixed_precision_check",
    "assert_built_after_instantiation",
)
_DROPPABLE = {"expected_output", "custom_objects", "tpu_atol", "tpu_rtol"}
_MISSING = object()


class Unresolved(Exception):
    """A value that is not a literal (or a whitelisted reference)."""


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _strip_keras(path):
    for prefix in ("keras.src.", "keras."):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


class Opaque:
    """A non-literal element inside a literal container (fatal only if a spec field uses it)."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"Opaque({self.reason!r})"


def find_opaque(value):
    """Returns the first Opaque nested in `value`, or None."""
    if isinstance(value, Opaque):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for v in value:
            found = find_opaque(v)
            if found is not None:
                return found
    return None


def _element(node, env):
    try:
        return evaluate(node, env)
    except Unresolved as e:
        return Opaque(str(e))


def np_shape(value):
    """The shape of a `{"__np__": ...}` constructor, or raises Unresolved."""
    kind, args, kwargs = value["__np__"], value["args"], value["kwargs"]
    if kind in ("rand", "randn"):
        shape = tuple(args)
    elif kind in ("ones", "zeros", "random", "standard_normal"):
        shape = args[0] if args else kwargs.get("size", kwargs.get("shape"))
    elif kind in ("uniform", "normal", "randint"):
        shape = kwargs.get("size")
    elif kind == "array" and args:
        import numpy as np  # only to measure a nested literal list

        shape = np.asarray(args[0]).shape
    else:
        raise Unresolved(f"shape of np.{kind}")
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise Unresolved(f"shape of np.{kind}")
    return tuple(shape)


_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
            ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b}


def evaluate(node, env):
    """Evaluates `node` as a literal, reading names from `env`; raises Unresolved otherwise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_element(e, env) for e in node.elts)
    if isinstance(node, ast.List):
        return [_element(e, env) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise Unresolved("dict unpacking")
        return {evaluate(k, env): _element(v, env) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name):
        if node.id in env:
            value = env[node.id]
            if isinstance(value, Opaque):
                raise Unresolved(value.reason)
            return value
        alias = env.get("__aliases__", {}).get(node.id)
        if alias and alias.startswith("layers."):
            return {"__ref__": alias}
        raise Unresolved(f"name {node.id!r}")
    if isinstance(node, ast.UnaryOp):
        value = evaluate(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub) and isinstance(value, (int, float)):
            return -value
        raise Unresolved("unary operator on a non-number")
    if isinstance(node, ast.BoolOp):
        values = [evaluate(v, env) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        return _COMPARE[type(node.ops[0])](evaluate(node.left, env), evaluate(node.comparators[0], env))
    if isinstance(node, ast.IfExp):
        return evaluate(node.body if evaluate(node.test, env) else node.orelse, env)
    if isinstance(node, ast.BinOp):
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
               ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
               ast.Div: lambda a, b: a / b}
        if type(node.op) in ops and all(isinstance(v, (int, float, tuple)) for v in (left, right)):
            return ops[type(node.op)](left, right)
        raise Unresolved("arithmetic")
    if isinstance(node, ast.Attribute):
        if node.attr == "shape":
            value = evaluate(node.value, env)
            if isinstance(value, dict) and "__np__" in value:
                return np_shape(value)
        path = _dotted(node)
        if path is not None:
            path = _resolve_alias(_strip_keras(path), env)
            if path.split(".")[0] in _REF_MODULES:
                return {"__ref__": path}
        raise Unresolved(f"attribute {ast.unparse(node)}")
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "reshape" and node.args:
            value = evaluate(node.func.value, env)
            if isinstance(value, dict) and "__np__" in value:
                shape = [evaluate(a, env) for a in node.args]
                return {**value, "reshape": shape[0] if len(shape) == 1 else tuple(shape)}
        if isinstance(node.func, ast.Attribute) and node.func.attr == "astype":
            value = evaluate(node.func.value, env)
            if isinstance(value, dict) and "__np__" in value and len(node.args) == 1:
                return {**value, "dtype": evaluate(node.args[0], env)}
        path = _dotted(node.func)
        if path is None:
            raise Unresolved(f"call {ast.unparse(node.func)}")
        path = _resolve_alias(_strip_keras(path), env)
        if path == "np.reshape" and len(node.args) == 2:
            value = evaluate(node.args[0], env)
            if isinstance(value, dict) and "__np__" in value:
                return {**value, "reshape": evaluate(node.args[1], env)}
        if path == "backend.backend":
            return "torch"  # the backend these specs are checked against
        if path in ("backend.config.image_data_format", "backend.image_data_format"):
            return "channels_last"  # the default the specs run under
        module, _, name = path.rpartition(".")
        args = [evaluate(a, env) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise Unresolved("**kwargs in a call")
            kwargs[kw.arg] = evaluate(kw.value, env)
        if (module, name) in _NP_CONSTRUCTORS:
            return {"__np__": _NP_CONSTRUCTORS[(module, name)], "args": args, "kwargs": kwargs}
        if module.split(".")[0] in _REF_MODULES:
            return {"__obj__": path, "args": args, "kwargs": kwargs}
        if name == "named_product":
            return _product(args, kwargs)
        raise Unresolved(f"call {path}")
    raise Unresolved(type(node).__name__)


def _resolve_alias(path, env):
    aliases = env.get("__aliases__", {})
    head, _, rest = path.partition(".")
    if head not in aliases:
        return path
    return f"{aliases[head]}.{rest}" if rest else aliases[head]


def _product(args, kwargs):
    """absl's `product` / keras's `named_product`: dict lists and keyword lists, crossed."""
    groups = [list(a) for a in args] + [[{k: v} for v in values] for k, values in kwargs.items()]
    cases = []
    for combo in itertools.product(*groups):
        case, names = {}, []
        for part in combo:
            if not isinstance(part, dict):
                raise Unresolved("product of non-dict cases")
            part = dict(part)
            if "testcase_name" in part:
                names.append(str(part.pop("testcase_name")))
            else:
                names.extend(f"{k}_{v}" for k, v in part.items())
            case.update(part)
        case["testcase_name"] = "_".join(names)
        cases.append(case)
    return cases


def _module_env(tree):
    aliases = {}
    for stmt in tree.body:
        module = stmt.module or "" if isinstance(stmt, ast.ImportFrom) else ""
        if module.startswith("keras.src.layers") and not module.endswith("_test"):
            for alias in stmt.names:
                local = alias.asname or alias.name
                # A module of keras.src.layers (`relu`) or a class from one (`ReLU`).
                aliases[local] = f"layers.{alias.name}" if alias.name[:1].isupper() else "layers"
    env = {"True": True, "False": False, "None": None, "__aliases__": aliases}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            try:
                env[stmt.targets[0].id] = evaluate(stmt.value, env)
            except Unresolved:
                pass
    return env


def _decorator_cases(func, env):
    """Returns the list of parameter bindings (dicts) the decorators produce, or [{}]."""
    params = [a.arg for a in func.args.args[1:]]
    cases = [{}]
    for deco in func.decorator_list:
        if not isinstance(deco, ast.Call):
            continue
        name = _dotted(deco.func) or ""
        kind = name.rpartition(".")[2]
        if kind not in ("parameters", "named_parameters", "product"):
            continue
        if kind == "product":
            args = [evaluate(a, env) for a in deco.args]
            kwargs = {kw.arg: evaluate(kw.value, env) for kw in deco.keywords}
            cases = []
            for case in _product(args, kwargs):
                case["__case__"] = case.pop("testcase_name")
                cases.append(case)
            continue
        items = [evaluate(a, env) for a in deco.args]
        if len(items) == 1 and isinstance(items[0], list):
            items = items[0]
        cases = []
        for item in items:
            if isinstance(item, dict):
                case = {k: v for k, v in item.items() if k != "testcase_name"}
                case["__case__"] = item.get("testcase_name")
            else:
                item = tuple(item) if isinstance(item, (tuple, list)) else (item,)
                name_value = None
                if kind == "named_parameters":
                    name_value, item = item[0], item[1:]
                case = dict(zip(params, item))
                case["__case__"] = name_value
            cases.append(case)
    return cases


def _function_defaults(func, env):
    out = {}
    args = func.args.args
    for arg, default in zip(args[len(args) - len(func.args.defaults):], func.args.defaults):
        try:
            out[arg.arg] = evaluate(default, env)
        except Unresolved:
            pass
    return out


class Unreachable(Exception):
    """The call sits in a branch this case's parameters do not take."""


def _assign(stmt, local):
    if not (len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        for target in stmt.targets:
            for n in ast.walk(target):
                if isinstance(n, ast.Name):
                    local[n.id] = Opaque("unpacked assignment")
        return
    name = stmt.targets[0].id
    try:
        local[name] = evaluate(stmt.value, local)
    except Unresolved as e:
        old = local.get(name)
        mentions = any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt.value))
        func = _dotted(stmt.value.func) if isinstance(stmt.value, ast.Call) else None
        if isinstance(old, dict) and "__np__" in old and mentions and func in (
            "np.multiply", "dense_to_sparse", "dense_to_ragged"
        ):
            # e.g. `x = np.multiply(x, x >= 0.8)`: same shape, values no longer known.
            local[name] = {**old, "values_changed": True}
        else:
            local[name] = Opaque(str(e))


def _walk(stmts, local, line):
    """Runs the literal assignments of `stmts` up to the statement holding `line`.

    `if` statements take the branch their condition selects (both, as unknowns, when the
    condition is not a literal). Returns True once the statement holding `line` is reached.
    """
    for stmt in stmts:
        if stmt.lineno > line:
            return True
        holds = stmt.lineno <= line <= stmt.end_lineno
        if isinstance(stmt, ast.Assign) and not holds:
            _assign(stmt, local)
        elif isinstance(stmt, ast.If):
            try:
                chosen = stmt.body if evaluate(stmt.test, local) else stmt.orelse
            except Unresolved:
                chosen = None
            if holds:
                in_body = any(s.lineno <= line <= s.end_lineno for s in stmt.body)
                branch = stmt.body if in_body else stmt.orelse
                if chosen is not None and chosen is not branch:
                    raise Unreachable()
                return _walk(branch, local, line)
            if chosen is not None:
                _walk(chosen, local, line)
            else:
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Assign):
                        for t in n.targets:
                            if isinstance(t, ast.Name):
                                local[t.id] = Opaque("assigned under a non-literal condition")
        elif isinstance(stmt, (ast.With, ast.For, ast.While, ast.Try)):
            if isinstance(stmt, ast.For):
                for n in ast.walk(stmt.target):
                    if isinstance(n, ast.Name):
                        local[n.id] = Opaque("loop variable")
            if _walk(stmt.body, local, line) and holds:
                return True
        if holds:
            return True
    return False


def _local_assignments(func, before_line, env):
    """The names bound by the literal assignments of `func` on the way to `before_line`."""
    local = dict(env)
    _walk(func.body, local, before_line)
    return local


def _expected_errors(func):
    """Maps id(call node) -> exception name for calls inside `with self.assertRaises(E)`."""
    out = {}
    for node in ast.walk(func):
        if not isinstance(node, ast.With):
            continue
        for item in node.items:
            ctx = item.context_expr
            if isinstance(ctx, ast.Call) and (_dotted(ctx.func) or "").rpartition(".")[2] in (
                "assertRaises", "assertRaisesRegex", "raises"
            ) and ctx.args:
                name = (_dotted(ctx.args[0]) or ast.unparse(ctx.args[0])).rpartition(".")[2]
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call):
                        out[id(inner)] = name
    return out


def _skip_marks(nodes):
    marks = []
    for node in nodes:
        for deco in getattr(node, "decorator_list", []):
            text = ast.unparse(deco)
            if "skip" in text or "requires_trainable_backend" in text:
                marks.append(text)
    return marks


def _layer_name(value):
    if isinstance(value, dict) and "__ref__" in value and value["__ref__"].startswith("layers."):
        return value["__ref__"][len("layers."):]
    raise Unresolved(f"layer_cls {value!r}")


def _extract_call(call, env):
    spec, dropped = {}, []
    args = list(call.args)
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    if any(kw.arg is None for kw in call.keywords):
        raise Unresolved("**kwargs passed to run_layer_test")
    layer_node = args[0] if args else keywords.pop("layer_cls", None)
    if layer_node is None:
        raise Unresolved("no layer_cls")
    try:
        spec["layer"] = _layer_name(evaluate(layer_node, env))
    except Unresolved:
        raise Unresolved(f"layer_cls {ast.unparse(layer_node)} is not a keras.layers class")
    if len(args) > 1:
        keywords.setdefault("init_kwargs", args[1])
    if len(args) > 2:
        raise Unresolved("more than two positional arguments")
    for key, node in keywords.items():
        try:
            spec[key] = evaluate(node, env)
            opaque = find_opaque(spec[key])
            if opaque is not None:
                del spec[key]
                raise Unresolved(opaque.reason)
        except Unresolved as e:
            if key in _DROPPABLE:
                dropped.append(key)
                continue
            raise Unresolved(f"{key}: {e}")
    if dropped:
        spec["dropped"] = dropped
    return spec


def extract(src_root):
    """Returns `(specs, unparsed)` from the Keras layer tests under `src_root`."""
    specs, unparsed = [], []
    for dirpath, _, filenames in sorted(os.walk(src_root)):
        for filename in sorted(filenames):
            if not filename.endswith("_test.py"):
                continue
            path = os.path.join(dirpath, filename)
            rel = os.path.relpath(path, os.path.dirname(os.path.dirname(src_root)))
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), filename=path)
            module_env = _module_env(tree)
            for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
                for func in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
                    calls = [
                        n for n in ast.walk(func)
                        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                        and n.func.attr == "run_layer_test"
                    ]
                    if not calls:
                        continue
                    base_id = f"{rel.replace(os.sep, '/')}::{cls.name}.{func.name}"
                    marks = _skip_marks([cls, func])
                    try:
                        cases = _decorator_cases(func, module_env)
                    except Unresolved as e:
                        unparsed.append({"id": base_id, "reason": f"parameters: {e}"})
                        continue
                    defaults = _function_defaults(func, module_env)
                    errors = _expected_errors(func)
                    for case_index, case in enumerate(cases):
                        label = case.get("__case__") or str(case_index)
                        binding = {**module_env, **defaults, **case}
                        binding.pop("__case__", None)
                        for call_index, call in enumerate(sorted(calls, key=lambda c: c.lineno)):
                            spec_id = f"{base_id}[{label}]" if len(cases) > 1 else base_id
                            if len(calls) > 1:
                                spec_id += f"#{call_index}"
                            try:
                                env = _local_assignments(func, call.lineno, binding)
                            except Unreachable:
                                continue
                            try:
                                spec = _extract_call(call, env)
                            except Unresolved as e:
                                unparsed.append({"id": spec_id, "reason": str(e)})
                                continue
                            spec = {"id": spec_id, **spec}
                            if id(call) in errors:
                                spec["expect_error"] = errors[id(call)]
                            if marks:
                                spec["marks"] = marks
                            specs.append(spec)
    return specs, unparsed


_HEADER = '''"""Keras {version}'s own `run_layer_test` cases, as data (generated; do not edit by hand).

Written by `scripts/extract_keras_layer_specs.py` from `keras/src/layers/**/*_test.py` of the
installed Keras wheel (parsed with `ast`, never executed). Each spec names the Keras test it
comes from (`id`), the layer class (`layer`, a name in `keras.layers`) and the keyword arguments
Keras's test passed to `run_layer_test`. `{{"__ref__": ...}}`, `{{"__obj__": ...}}` and
`{{"__np__": ...}}` entries are references the harness resolves (see the script's docstring).
`UNPARSED` lists the cases whose arguments are not literals, with the reason.
"""

KERAS_VERSION = {version!r}

'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras-src", default=None, help="keras/src/layers directory")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "..", "tests", "layers", "keras_layer_specs_table.py"))
    args = parser.parse_args(argv)
    version = "unknown"
    src = args.keras_src
    if src is None:
        import keras  # the oracle, only to find its sources

        version = keras.__version__
        src = os.path.join(os.path.dirname(keras.__file__), "src", "layers")
    specs, unparsed = extract(src)
    for field in {k for s in specs for k in s} - set(_SPEC_FIELDS) - {"id", "layer", "dropped", "marks", "expect_error"}:
        print(f"note: run_layer_test field {field!r} seen", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(_HEADER.format(version=version))
        f.write("SPECS = " + pprint.pformat(specs, width=100, sort_dicts=False) + "\n\n")
        f.write("UNPARSED = " + pprint.pformat(unparsed, width=100, sort_dicts=False) + "\n")
    print(f"{len(specs)} specs, {len(unparsed)} unparsed -> {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main()
