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
