"""`hyperscale infra`: Terraform roots per environment, run as a DAG of components."""
