"""`hyperscale report schedule`: the digest on a cron schedule (crontab or CronJob)."""
