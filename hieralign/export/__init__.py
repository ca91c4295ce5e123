"""ONNX / INT8 export of the character and line towers, and an onnxruntime character recogniser.

Public API: `export_char(CharExportConfig)` (hieralign.export.char_export), `export_line(model_dir,
out, int8)` (hieralign.export.line_export), `OnnxCharRecognizer.from_dir(dir, int8=False)`
(hieralign.export.runtime, the same `.recognize()` as `CharRecognizer`), `export_onnx`,
`quantize_int8`, `read_metadata`, `session` (hieralign.export.onnx_io). CLI: `hieralign export`;
`hieralign recognize --backend onnx|onnx-int8`. Importing needs only torch + numpy (onnx and
onnxruntime are imported inside the functions that use them). Format: docs/API.md.
"""
