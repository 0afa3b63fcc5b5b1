"""`hyperscale chaos`: drills that take instances down on purpose, on the drills engine, over the
Target interface: a steady-state hypothesis before and after, measured recovery, a verdict."""
