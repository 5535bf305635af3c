"""facecut: find every moment a person's face is on screen and cut those moments into clips."""
