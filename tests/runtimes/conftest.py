"""A one-node ONNX model (Relu on an image-shaped input): enough for ONNX Runtime's provider choice."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def relu_onnx(tmp_path_factory) -> Path:
    import onnx
    from onnx import TensorProto, helper

    shape = [1, 3, "height", "width"]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["output"])],
        "relu",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("onnx") / "relu.onnx"
    onnx.save(model, path)
    return path
