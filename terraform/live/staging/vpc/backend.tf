# Rendered from templates/terraform/backend.tf.j2 for staging; do not edit by hand.
# State in S3 (encrypted), one key per component; DynamoDB holds the lock.
terraform {
  backend "s3" {
    bucket         = "hyperscale-345678901234-eu-west-1-tfstate"
    key            = "staging/vpc/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "hyperscale-terraform-locks"
    encrypt        = true
  }
}
