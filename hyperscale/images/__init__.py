"""`hyperscale images`: a base image from Debian packages, builds tagged by git sha, pushes, cleanup."""
