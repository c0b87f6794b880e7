project "acme" {
  region      = "eu"
  namespace   = "payments"
  datacenters = ["eu-west-1a", "eu-west-1b"]

  vault {
    kv_mount      = "kv"
    auth_path     = "jwt-nomad-eu"
    audience      = ["vault.acme.internal"]
    token_period  = "1h"
    policy_prefix = "acme-"
  }

  ingress_gateway {
    name  = "edge"
    port  = 443
    count = 2
  }

  terminating_gateway {
    name = "egress"
  }

  environment "staging" {
    namespace = "payments-staging"
  }

  environment "prod" {
    datacenters = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  }
}

variable "version" {
  type    = string
  default = "5.0.0"
}

variable "public_hosts" {
  type    = list(string)
  default = ["pay.acme.example"]
}
