"""Line models: the CTC line recogniser (`ctc`) and line-CLIP (dual encoder) with its saved artefacts."""
