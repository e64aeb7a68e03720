"""The ONNX Runtime session lets its idle threads sleep, so they leave the cores to the request threads."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def relu_model(path) -> None:
    """The smallest image model: one Relu over a 1x3xHxW input."""
    from onnx import TensorProto, helper

    shape = [1, 3, "height", "width"]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["output0"])],
        "relu",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    path.write_bytes(model.SerializeToString())


def test_the_session_does_not_spin_its_idle_threads_and_still_answers(tmp_path):
    from apis.runtimes.onnx_session import open_session

    relu_model(tmp_path / "relu.onnx")
    session, device = open_session(tmp_path / "relu.onnx", device="cpu", threads=2)
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2
    pixels = np.array([-1.0, 2.0], np.float32).reshape(1, 1, 1, 2).repeat(3, axis=1)
    assert session.run(None, {"images": pixels})[0].tolist() == [[[[0.0, 2.0]]] * 3]
    assert device == "cpu"
