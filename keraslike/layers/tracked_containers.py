"""List and dict attributes of a layer whose sublayers are tracked however they got there.

Keras tracks the layers a list or dict attribute holds whenever they were added:
`self.ensemble = []`, then `self.ensemble.append(NeuralDecisionTree(...))` (keras-io's neural
decision forest), `self.embeddings = dict()`, then `self.embeddings[name] = Embedding(...)`
(keras-io's variable selection network). A list holding only modules when assigned becomes an
`nn.ModuleList`; any other list, and any dict, that is empty or holds a module becomes a
`TrackedList` / `TrackedDict`: a plain list or dict to the user, which keeps an `nn.ModuleList`
of the modules it holds registered on the owner under the same attribute name, so they are in
the module tree (`named_parameters()`: trained, saved, counted). Both flatten as their plain
counterparts in `keras.tree` (torch pytree).
"""

from torch import nn
from torch.utils import _pytree as pytree


def note_tracked(owner, modules):
    """Records, on `owner`, the modules it starts tracking now (Keras orders a layer's sublayers,
    and so its weights, by when each was first tracked: assigned or added to a list or dict)."""
    # A dict keyed by the modules (hashed by identity), in insertion order: O(1) per module.
    order = owner.__dict__.get("_tracked_order")
    if order is None:
        order = owner.__dict__["_tracked_order"] = {}
    for module in modules:
        order.setdefault(module, None)


def tracked_order(owner, modules):
    """`modules` (a layer's sublayers, in module-tree order) in the order `owner` tracked them."""
    order = owner.__dict__.get("_tracked_order")
    if not order or len(modules) < 2:
        return modules
    rank = {id(m): i for i, m in enumerate(order)}
    return sorted(modules, key=lambda m: rank.get(id(m), len(rank)))  # stable: untracked last


def _sync(container, modules):
    """Makes the owner's `nn.ModuleList` for `container` hold `modules`, in the order added."""
    owner_modules = container._owner.__dict__.get("_modules")
    if owner_modules is None:
        # `copy.deepcopy` of the owner fills the container before the owner's own state; the
        # owner's copied `_modules` then holds the copied ModuleList already.
        return
    note_tracked(container._owner, modules)
    tracked = owner_modules.get(container._name)
    if not isinstance(tracked, nn.ModuleList):
        tracked = owner_modules[container._name] = nn.ModuleList()
    children = tracked._modules
    current_ids = {id(m) for m in modules}
    kept = [m for m in children.values() if id(m) in current_ids]
    kept_ids = {id(m) for m in kept}
    # Keras orders a layer's sublayers by when they were added, not by position or key.
    order = kept + [m for m in modules if id(m) not in kept_ids]
    if [id(m) for m in children.values()] != [id(m) for m in order]:
        children.clear()
        for index, module in enumerate(order):
            children[str(index)] = module


def _has_module(values):
    return any(isinstance(v, nn.Module) for v in values)


def _tracks_modules(container):
    # Whether the owner's ModuleList for `container` holds a module (removals must update it).
    owner_modules = container._owner.__dict__.get("_modules")
    tracked = owner_modules.get(container._name) if owner_modules is not None else None
    return tracked is not None and len(tracked) > 0


# The mutating methods call `super()` (which torch.compile traces; an unbound `list.append` it
# does not) and update the module tree only when a module is added or could be removed, so a
# layer recording plain values in a list during `call` (`self.seen.append(training)`) compiles
# without graph breaks and pays one `isinstance` per call.


class TrackedList(list):
    """A list whose `nn.Module` items are registered on `owner` as the `nn.ModuleList` `name`.

    The owner's registered `nn.ModuleList` is the source of truth for the module tree; the
    mutating methods update it in place (its position among the owner's children is the one
    the attribute got when first assigned).

    Args:
        items: The initial items.
        owner: The layer holding the list as an attribute.
        name: The attribute's name.
    """

    def __init__(self, items, owner, name):
        super().__init__(items)
        self._owner = owner
        self._name = name
        self._sync()

    def _sync(self):
        _sync(self, [item for item in self if isinstance(item, nn.Module)])

    def append(self, item):
        super().append(item)
        if isinstance(item, nn.Module):
            self._sync()

    def extend(self, items):
        items = list(items)
        super().extend(items)
        if _has_module(items):
            self._sync()

    def insert(self, index, item):
        super().insert(index, item)
        if isinstance(item, nn.Module):
            self._sync()

    def __iadd__(self, items):
        self.extend(items)
        return self

    def __imul__(self, count):
        result = super().__imul__(count)
        if _tracks_modules(self):
            self._sync()
        return result

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        values = value if isinstance(index, slice) else [value]
        if _has_module(values) or _tracks_modules(self):
            self._sync()

    def __delitem__(self, index):
        super().__delitem__(index)
        if _tracks_modules(self):
            self._sync()

    def pop(self, index=-1):
        item = super().pop(index)
        if isinstance(item, nn.Module):
            self._sync()
        return item

    def remove(self, item):
        super().remove(item)
        if isinstance(item, nn.Module):
            self._sync()

    def clear(self):
        super().clear()
        if _tracks_modules(self):
            self._sync()


class TrackedDict(dict):
    """A dict whose `nn.Module` values are registered on `owner` as the `nn.ModuleList` `name`.

    Args:
        items: The initial items (a mapping).
        owner: The layer holding the dict as an attribute.
        name: The attribute's name.
    """

    def __init__(self, items, owner, name):
        super().__init__(items)
        self._owner = owner
        self._name = name
        self._sync()

    def _sync(self):
        _sync(self, [value for value in self.values() if isinstance(value, nn.Module)])

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if isinstance(value, nn.Module) or _tracks_modules(self):
            self._sync()

    def __delitem__(self, key):
        super().__delitem__(key)
        if _tracks_modules(self):
            self._sync()

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if isinstance(value, nn.Module):
            self._sync()
        return value

    def popitem(self):
        item = super().popitem()
        if isinstance(item[1], nn.Module):
            self._sync()
        return item

    def clear(self):
        super().clear()
        if _tracks_modules(self):
            self._sync()

    def update(self, *args, **kwargs):
        super().update(*args, **kwargs)
        self._sync()

    def setdefault(self, key, default=None):
        value = super().setdefault(key, default)
        if isinstance(value, nn.Module):
            self._sync()
        return value

    def __ior__(self, other):
        self.update(other)
        return self


pytree.register_pytree_node(
    TrackedList,
    lambda x: (list(x), None),
    lambda values, context: list(values),
    serialized_type_name="keraslike.TrackedList",
    flatten_with_keys_fn=lambda x: ([(pytree.SequenceKey(i), v) for i, v in enumerate(x)], None),
)
pytree.register_pytree_node(
    TrackedDict,
    lambda x: (list(x.values()), list(x.keys())),
    lambda values, keys: dict(zip(keys, values)),
    serialized_type_name="keraslike.TrackedDict",
    flatten_with_keys_fn=lambda x: ([(pytree.MappingKey(k), v) for k, v in x.items()], list(x.keys())),
)
