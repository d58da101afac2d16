"""`keras.Function`: a callable computing `outputs` from `inputs` along a symbolic graph.

keraslike runs the graph with the same precomputed execution plan a functional `Model` uses, so a
`Function` is a thin, weight-sharing view: it holds the graph's layers (as `operations`) but is
not itself a layer or a model.
"""

from keraslike.graph import nest
from keraslike.models import Model


class Function:
    """A callable that maps `inputs` to `outputs` of a symbolic graph.

    Args:
        inputs: A `keras.Input` tensor, or a (nested) list / dict of them.
        outputs: Symbolic tensors computed from `inputs`.
        name: Optional name.

    Example:

    ```python
    x = keras.Input((3,))
    y = keras.layers.Dense(2)(x)
    f = keras.Function(x, y)
    f(np.ones((4, 3), "float32")).shape  # (4, 2)
    ```
    """

    def __init__(self, inputs, outputs, name=None):
        self._graph = Model(inputs, outputs, name=name)
        self.name = self._graph.name if name is None else name
        self._inputs_struct = inputs
        self._outputs_struct = outputs

    @property
    def inputs(self):
        """The flat list of input tensors."""
        return nest.flatten(self._inputs_struct)

    @property
    def outputs(self):
        """The flat list of output tensors."""
        return nest.flatten(self._outputs_struct)

    @property
    def operations(self):
        """The graph's operations (layers, input layers first), in execution order."""
        return list(self._graph.layers)

    def call(self, inputs, training=None, mask=None):
        """Computes the outputs for concrete `inputs` (structured like the graph's inputs)."""
        return self._graph(inputs, training=training, mask=mask)

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def compute_output_spec(self, inputs):
        """The outputs' specs (symbolic tensors) for `inputs`."""
        return self._graph.compute_output_spec(inputs)

    def __repr__(self):
        return f"<Function name={self.name}>"
