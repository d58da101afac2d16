"""`RemoteMonitor`: posts each epoch's logs to an HTTP server."""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from keraslike.callbacks.callback import Callback, _is_main_process


def _plain(value):
    """A log value as JSON-ready Python (0-d tensors and NumPy scalars unwrapped)."""
    if hasattr(value, "detach") and value.ndim == 0:  # a 0-d tensor: one read per epoch
        return value.item()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    return value


class RemoteMonitor(Callback):
    """Callback used to stream events to a server.

    At the end of each epoch it sends an HTTP POST to `root + path` with the epoch index and
    the logs: as a form field `field` holding the JSON (the default) or as a JSON body
    (`send_as_json=True`), as Keras 3 does. It uses the standard library (Keras needs
    `requests`); an unreachable server gives a warning, not an error. Under
    `torch.distributed`, only rank 0 sends.

    Args:
        root: String, the root URL of the target server.
        path: String, path relative to `root` to which the events are sent.
        field: String, the form field the JSON is stored under (form posts only).
        headers: Dictionary, optional custom HTTP headers.
        send_as_json: Boolean, whether the request body is the JSON itself
            (`application/json`).

    Example:

    ```python
    monitor = keras.callbacks.RemoteMonitor(root="http://localhost:9000")
    model.fit(x, y, callbacks=[monitor])
    ```
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        if not _is_main_process():
            return
        send = {"epoch": epoch}
        send.update({k: _plain(v) for k, v in (logs or {}).items()})
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(
                "Could not reach RemoteMonitor root server at " + str(self.root), stacklevel=2
            )
