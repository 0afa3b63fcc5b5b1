"""`hyperscale images`: a Debian base image, builds tagged by git sha, pushes, cleanup."""
