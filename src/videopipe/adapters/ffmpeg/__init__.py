"""What every decoder backend shares and no backend owns.

- :mod:`.files`: a video path is a readable regular local file; the input ffmpeg and
  libav read it through (an inherited descriptor, so the file read is the one checked);
- :mod:`.checks`: what a header may not hold (too many pixels, a text "video", no video
  stream), with the messages every decoder gives;
- :mod:`.binary`: the bundled ffmpeg binary, its header probe and its packet check;
- :mod:`.log`: reading what the ffmpeg command line prints;
- :mod:`.libav`: PyAV helpers (stream choice, expected frame counts, opening a file);
- :mod:`.packets`: one demux pass: declared and stored frame counts, the frames'
  presentation times (``videopipe probe`` and the OpenCV decoder's timestamps);
- :mod:`.timestamps`: the one definition of a frame's timestamp (the ffmpeg CLI's
  packet fix-up, libavcodec's best-effort rule, strictly increasing);
- :mod:`.writer`: the one video writer (PyAV) of ``--annotate``, the media helpers
  and ``videopipe bench``.

Decoders, executors, the CLI and the test helpers import from here; no decoder backend
imports another.
"""
