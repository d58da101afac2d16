"""Recurrent layers: SimpleRNN, LSTM, GRU and their cells, RNN, Bidirectional, TimeDistributed,
ConvLSTM1D/2D/3D."""

from keraslike.layers.recurrent.bidirectional import Bidirectional
from keraslike.layers.recurrent.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from keraslike.layers.recurrent.gru import GRU, GRUCell
from keraslike.layers.recurrent.lstm import LSTM, LSTMCell
from keraslike.layers.recurrent.rnn import RNN
from keraslike.layers.recurrent.simple_rnn import SimpleRNN, SimpleRNNCell
from keraslike.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from keraslike.layers.recurrent.time_distributed import TimeDistributed

__all__ = [
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
]
