# Rendered from templates/terraform/components/cloudfront.tf.j2 for staging; do not edit by hand.
module "cloudfront" {
  source = "../../../modules/cloudfront"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                = "hyperscale-staging"
  origin_domain_name  = "api.staging.hyperscale.example.com"
  aliases             = []
  acm_certificate_arn = null
  log_bucket          = "hyperscale-345678901234-eu-west-1-logs"
}

output "distribution_id" {
  description = "The CloudFront distribution's id (for invalidations)."
  value       = module.cloudfront.distribution_id
}

output "domain_name" {
  description = "The distribution's *.cloudfront.net name."
  value       = module.cloudfront.domain_name
}
