# The AWS Load Balancer Controller, installed with its Helm chart into kube-system. Its IAM
# role (and the policy, after the upstream reference) is made by the iam-irsa module, where
# every IRSA trust of the cluster lives; here the service account is annotated with it.
resource "helm_release" "controller" {
  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.chart_version
  namespace  = "kube-system"

  atomic          = true # a failed upgrade rolls back instead of leaving a half-installed controller
  cleanup_on_fail = true
  wait            = true
  timeout         = 600

  values = [yamlencode({
    clusterName  = var.cluster_name
    region       = var.region
    vpcId        = var.vpc_id
    replicaCount = var.replicas
    serviceAccount = {
      create = true
      name   = var.service_account_name
      annotations = {
        "eks.amazonaws.com/role-arn"               = var.controller_role_arn
        "eks.amazonaws.com/sts-regional-endpoints" = "true"
      }
    }
    ingressClass               = var.ingress_class
    createIngressClassResource = true
    ingressClassConfig = {
      default = false
    }
    # IP targets: traffic goes straight to pods, and topology spread holds across zones.
    defaultTargetType = "ip"
    podDisruptionBudget = {
      maxUnavailable = 1
    }
    topologySpreadConstraints = [{
      maxSkew           = 1
      topologyKey       = "topology.kubernetes.io/zone"
      whenUnsatisfiable = "ScheduleAnyway"
      labelSelector = {
        matchLabels = { "app.kubernetes.io/name" = "aws-load-balancer-controller" }
      }
    }]
    resources = {
      requests = { cpu = "100m", memory = "128Mi" }
      limits   = { memory = "256Mi" }
    }
  })]
}

# The ALB answers CloudFront only (issue 19): its frontend security group admits nothing but
# the CloudFront origin-facing managed prefix list, so the WAF in front of it cannot be walked
# around by calling the ALB's own DNS name. The Ingress attaches this group by name
# (alb.ingress.kubernetes.io/security-groups) and lets the controller manage the backend rules.
data "aws_ec2_managed_prefix_list" "cloudfront_origin_facing" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "aws_security_group" "frontend" {
  #checkov:skip=CKV2_AWS_5:attached to the ALB by the Load Balancer Controller, which creates the ALB from the Ingress that names this group
  name        = var.frontend_security_group_name
  description = "ALB of ${var.cluster_name}: HTTPS from CloudFront origin-facing addresses only"
  vpc_id      = var.vpc_id

  tags = {
    Name = var.frontend_security_group_name
  }
}

resource "aws_vpc_security_group_ingress_rule" "https_from_cloudfront" {
  security_group_id = aws_security_group.frontend.id
  description       = "HTTPS from CloudFront (origin-facing managed prefix list)"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront_origin_facing.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "to_pods" {
  security_group_id = aws_security_group.frontend.id
  description       = "To the API pods (target-type ip) in the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
}
