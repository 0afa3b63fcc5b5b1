"""`hyperscale metrics alb`: the load balancer's CloudWatch figures in one GetMetricData call."""
