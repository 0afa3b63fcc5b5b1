# Rendered from templates/terraform/backend.tf.j2 for prod; do not edit by hand.
# State in S3 (encrypted), one key per component; DynamoDB holds the lock.
terraform {
  backend "s3" {
    bucket         = "hyperscale-210987654321-eu-west-1-tfstate"
    key            = "prod/eks/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "hyperscale-terraform-locks"
    encrypt        = true
  }
}
