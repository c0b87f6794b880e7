# A public HTTP service, reachable from outside through the ingress gateway.
app "myapp" {
  image = "registry.example.com/team/myapp:0.1.0"
  count = 2

  port "http" {
    to = 8080
  }

  resources {
    cpu    = 200 # MHz
    memory = 256 # MiB
  }

  env = {
    LOG_LEVEL = "info"
  }

  service {
    port = "http"

    check "health" {
      type     = "http"
      path     = "/healthz"
      interval = "10s"
      timeout  = "2s"
    }

    # Services this app calls, each on a local port its sidecar forwards:
    # upstream "other-app" { local_port = 9090 }
  }

  # Only what is exposed is reachable from outside.
  expose {
    hosts = ["myapp.example.com"]
  }

  update {
    canary       = 1
    auto_promote = true
    auto_revert  = true
  }
}
