# drover autoscale, run on Nomad itself: two instances share a leadership
# lock (a Nomad variable), so one acts and the other stands by.
#
# Its Nomad token is its workload identity (nomad_api = true). Grant it the
# scaling policy once, for example:
#   nomad acl policy apply -job drover-autoscaler drover-autoscaler autoscaler-policy.hcl
# with: namespace "*" { policy = "scale" capabilities = ["read-job", "list-jobs"] }
#       variables { path "drover/autoscale/*" { capabilities = ["read", "write", "destroy"] } }
app "drover-autoscaler" {
  image   = "registry.example.com/platform/drover:0.1.0"
  count   = 2
  command = "/drover"
  args    = ["autoscale", "--ha", "--listen", ":9102", "--prometheus-addr", "http://prometheus.service.consul:9090"]

  nomad_api = true

  port "metrics" {
    to = 9102
  }

  resources {
    cpu    = 100
    memory = 64
  }

  env = {
    DROVER_LOG_LEVEL = "info"
  }

  service {
    port = "metrics"

    check "health" {
      path = "/healthz"
    }
  }
}
