"""Makes web/static/chime.wav, the provider board's new-order sound: two short tones (A5 then E6), 0.45 s, made
here with the standard library (no download). Run `python -m web.chime` to make it again."""
from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16000
TONES = ((880.0, 0.18), (1318.5, 0.27))
OUT = Path(__file__).resolve().parent / "static" / "chime.wav"


def samples() -> bytes:
    frames = bytearray()
    for freq, seconds in TONES:
        n = int(RATE * seconds)
        for i in range(n):
            fade = min(1.0, i / 160, (n - i) / 800)  # no click at either end
            frames += struct.pack("<h", int(0.5 * 32767 * fade * math.sin(2 * math.pi * freq * i / RATE)))
    return bytes(frames)


def main() -> None:
    with wave.open(str(OUT), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples())


if __name__ == "__main__":
    main()
