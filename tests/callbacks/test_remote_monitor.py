"""`keras.callbacks.RemoteMonitor`: what Keras 3 posts, to a local HTTP server (no network)."""

import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import keraslike


class _Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"],
                                    self.headers.get("X-Run"), body.decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.received
    httpd.shutdown()
    httpd.server_close()


def _fit(callback):
    model = keraslike.Sequential([keraslike.Input((3,)), keraslike.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), "float32")
    return model.fit(x, np.zeros((8, 1), "float32"), epochs=2, verbose=0, callbacks=[callback])


def test_posts_each_epoch_as_a_form_field(server):
    root, received = server
    history = _fit(keraslike.callbacks.RemoteMonitor(root=root, headers={"X-Run": "7"}))
    assert [r[0] for r in received] == ["/publish/epoch/end/"] * 2
    path, content_type, run, body = received[1]
    assert content_type == "application/x-www-form-urlencoded" and run == "7"
    sent = json.loads(urllib.parse.parse_qs(body)["data"][0])
    assert sent["epoch"] == 1
    assert sent["loss"] == pytest.approx(history.history["loss"][1])


def test_posts_json_when_asked(server):
    root, received = server
    _fit(keraslike.callbacks.RemoteMonitor(root=root, path="/x", send_as_json=True))
    _, content_type, _, body = received[0]
    assert content_type == "application/json"
    assert set(json.loads(body)) == {"epoch", "loss"}


def test_unreachable_server_warns():
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        _fit(keraslike.callbacks.RemoteMonitor(root="http://127.0.0.1:9"))
