"""Line-CLIP: line images <-> transcriptions (Tibetan first, any script). See docs/LINES.md.

Public API (import the submodules; this package imports nothing heavy):
- `manifest`: `read_manifest`, `write_manifest`, `LineRecord`, `ManifestReport`, `normalize_text`
- `synth` / `synth_cli`: fonts, word samplers, `render_line`, `degrade`, `build_dataset`
- `preprocess`: `PreprocessConfig`, `preprocess_image`, `to_pixel_values`
- `model`: `LineCLIP`, `LineCLIPConfig` (`.image_tower`, `.text_tower`, `encode_image`, `encode_text`)
- `loss`: `contrastive_loss` (InfoNCE / SigLIP, gathered across ranks with gradient)
- `metrics`: `retrieval_metrics`, `positive_ranks` (chunked)
- `artifacts`: `save_line_clip`, `load_line_clip`, `LineEncoder`
- `index`: `LineIndex`, `build_index`, `embedding_table`
- `search`: `LineSearcher` (`from_dir`, `search_text`, `search_image`, `card`)
"""
