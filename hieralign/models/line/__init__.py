"""Line models: the CTC line recogniser (`ctc`) and, beside it, the line dual encoder."""
