"""Line synthesis (moving to hieralign.data.lines.synth). Other line modules live in the layers:
data/lines, models/line, train/line_clip_task, eval/line_eval, index/."""
