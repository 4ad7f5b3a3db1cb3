"""ONNX import: ModelProto -> core Graph."""
from loadrun.onnx.importer import ImportedModel, import_model, read_model  # noqa: F401
