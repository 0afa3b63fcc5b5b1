# Rendered from templates/terraform/components/cloudfront.tf.j2 for prod; do not edit by hand.
module "cloudfront" {
  source = "../../../modules/cloudfront"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                = "hyperscale-prod"
  origin_domain_name  = "api.prod.hyperscale.example.com"
  aliases             = ["static.hyperscale.example.com"]
  acm_certificate_arn = "arn:aws:acm:us-east-1:210987654321:certificate/5f1c1e3a-7f3b-4c55-9d2e-0f6a2b9c8d11"
  log_bucket          = "hyperscale-210987654321-eu-west-1-logs"
}

output "distribution_id" {
  description = "The CloudFront distribution's id (for invalidations)."
  value       = module.cloudfront.distribution_id
}

output "domain_name" {
  description = "The distribution's *.cloudfront.net name."
  value       = module.cloudfront.domain_name
}
