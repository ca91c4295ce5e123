"""ONNX / INT8 export of the character towers, and an onnxruntime recogniser.

Public API: `export_char(CharExportConfig)` (hieralign.export.char_export),
`OnnxCharRecognizer.from_dir(dir, int8=False)` (hieralign.export.runtime, same `.recognize()` as
`CharRecognizer`), `export_onnx`, `quantize_int8`, `read_metadata` (hieralign.export.onnx_io).
CLI: `hieralign export`. Importing this package needs only torch + numpy (onnx is imported lazily).
"""
