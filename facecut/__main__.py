"""`python -m facecut`: the same command as `facecut` and video_inference.py."""

import sys

from facecut.cli import main

# main() returns the exit code (0 found, 1 not found, 2 error): sys.exit passes it on,
# as the `facecut` console script does.
if __name__ == "__main__":
    sys.exit(main())
