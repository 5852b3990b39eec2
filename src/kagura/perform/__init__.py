"""`kagura perform`: the character performed outside Kagura's own pages.

`kagura perform vts` joins the stage as a page, plays every reply on a sound device (or a
WAV file) and drives the streamer's own VTube Studio model through its public plugin API:
emotions fire the model's hotkeys or expressions, the voice's loudness opens its mouth.
No engine runs in this process.
"""
