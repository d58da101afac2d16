"""A list attribute of a layer whose sublayers are tracked when they are added later.

Keras tracks the layers a list attribute holds whatever they were added: `self.blocks = []` in
`__init__`, then `self.blocks.append(Dense(...))` (keras-io's neural decision forest builds its
ensemble so). A list holding only modules when assigned becomes an `nn.ModuleList`; any other
list (empty, or mixing layers with other values) becomes a `TrackedList`: a plain list to the
user, which keeps an `nn.ModuleList` of the modules it holds registered on the owner under the
same attribute name, so they are in the module tree (`named_parameters()`: trained, saved).
"""

from torch import nn


class TrackedList(list):
    """A list whose `nn.Module` items are registered on `owner` as the `nn.ModuleList` `name`.

    The owner's registered `nn.ModuleList` is the source of truth for the module tree; every
    mutating method updates it in place (its position among the owner's children is the one
    the attribute got when first assigned, its modules in the order they were added, as Keras
    orders sublayers).

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
        owner_modules = self._owner.__dict__.get("_modules")
        if owner_modules is None:
            # `copy.deepcopy` of the owner fills this list before the owner's own state; the
            # owner's copied `_modules` then holds the copied ModuleList already.
            return
        tracked = owner_modules.get(self._name)
        if not isinstance(tracked, nn.ModuleList):
            tracked = owner_modules[self._name] = nn.ModuleList()
        current = [item for item in self if isinstance(item, nn.Module)]
        children = tracked._modules
        current_ids = {id(m) for m in current}
        kept = [m for m in children.values() if id(m) in current_ids]
        kept_ids = {id(m) for m in kept}
        # Keras orders a layer's sublayers by when they were added, not by list position.
        order = kept + [m for m in current if id(m) not in kept_ids]
        if [id(m) for m in children.values()] != [id(m) for m in order]:
            children.clear()
            for index, module in enumerate(order):
                children[str(index)] = module


def _mutating(method_name):
    base = getattr(list, method_name)

    def method(self, *args, **kwargs):
        result = base(self, *args, **kwargs)
        self._sync()
        return result

    method.__name__ = method_name
    method.__doc__ = base.__doc__
    return method


for _name in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
              "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(TrackedList, _name, _mutating(_name))
