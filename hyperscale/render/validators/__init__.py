"""One module per validator; each turns its tool's output into Findings with file and line."""
