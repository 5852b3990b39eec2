"""`kagura chat`: the streamer talks to the character from a terminal.

A light client of a running `kagura serve` (or of one it starts): it connects to the stage
(`/proxy-ws`) as the admin and sends the streamer's voice (microphone or WAV files, as
binary PCM frames) or typed lines; the stage answers as it answers everything, so every
page, overlay and widget shows and speaks the reply. No engine runs in this process.
"""
