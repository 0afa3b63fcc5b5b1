output "distribution_id" {
  description = "The distribution's id (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "The distribution's ARN."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "The distribution's *.cloudfront.net host name (the aliases' DNS records point here)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "web_acl_arn" {
  description = "The WAF web ACL protecting the distribution."
  value       = aws_wafv2_web_acl.this.arn
}
