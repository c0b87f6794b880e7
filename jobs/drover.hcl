# Project settings shared by every spec under jobs/.
project "shop" {
  datacenters = ["dc1"]

  vault {
    kv_mount  = "secret"    # KV version 2
    auth_path = "jwt-nomad" # the JWT auth method `nomad setup vault` creates
  }

  ingress_gateway {
    port  = 8080
    count = 1
  }

  environment "staging" {
    datacenters = ["dc1"]
  }

  environment "prod" {
    datacenters = ["dc1", "dc2"]
  }
}

# The release every app runs; CI sets it with -var version=... or DROVER_VAR_version.
variable "version" {
  type        = string
  default     = "1.4.2"
  description = "Release tag of the shop images."
}
