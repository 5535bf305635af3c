#!/usr/bin/env python3
"""Find every moment a person's face is on screen and cut those moments into clips.

    python video_inference.py --video talk.mp4 --reference person.jpg

The real code lives in the `facecut` package; see README.md.
"""
import sys

from facecut.cli import main

if __name__ == "__main__":
    sys.exit(main())
