"""The drill engine every drill runs on (`hyperscale dr drill ...`, later `hyperscale chaos`):
steps on a timeline, checks that judge the hypothesis, measurements, undo actions that always
run, a JSON journal, and a verdict (ok, or deviated: exit 1)."""
