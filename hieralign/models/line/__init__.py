"""Line models: line-CLIP (dual encoder) and its saved artefacts."""
