output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's IPv4 range."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnet ids, in the order of var.availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.private[zone].id]
}

output "public_subnet_ids" {
  description = "Public subnet ids, in the order of var.availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].id]
}

output "public_subnet_cidrs" {
  description = "Public subnet ranges (the load balancers' addresses), in the order of var.availability_zones; the API's NetworkPolicy admits these (hyperscale render computes the same)."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].cidr_block]
}

output "nat_gateway_ids" {
  description = "NAT gateway ids, one per zone, in the order of var.availability_zones."
  value       = [for zone in var.availability_zones : aws_nat_gateway.this[zone].id]
}

output "flow_log_group_name" {
  description = "The CloudWatch Logs group holding the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
