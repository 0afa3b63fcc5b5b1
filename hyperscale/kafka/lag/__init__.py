"""`hyperscale kafka lag`: consumer lag in messages and seconds, sampled, watched or exported."""
