"""`hyperscale metrics alb|db`: the load balancer's and the database's figures, with thresholds."""
