"""The symbolic graph: KerasTensor, Node, symbolic calls, topology and the execution plan."""

from keraslike.graph.keras_tensor import KerasTensor, is_keras_tensor
from keraslike.graph.node import Node
from keraslike.graph.operation import Operation, TorchFunction, any_symbolic
