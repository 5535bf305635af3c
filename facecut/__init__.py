"""facecut: find every moment a person's face is on screen and cut those moments into clips."""

# Read by pyproject.toml ([tool.setuptools.dynamic]) and by `facecut --version`.
__version__ = "0.11.0"
