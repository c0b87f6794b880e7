app "api" {
  image = "registry.example.com/api:1.0.0"

  port "http" {
    to = 8080
  }

  service {
    check "alive" {
      type = "tcp" # ERROR: Unsupported check type
    }

    check "ready" { # ERROR: Invalid check path
      type = "http"
    }

    check "slow" {
      path     = "/slow"
      interval = "5s"
      timeout  = "5s" # WARNING: Check timeout not below interval
    }

    check "grpc" {
      type   = "grpc"
      method = "GET" # ERROR: Unsupported argument
      path   = "/grpc.health.v1.Health/Check" # ERROR: Unsupported argument
    }

    check "fast" {
      path     = "/healthz"
      interval = "500ms" # ERROR: Invalid check interval
      timeout  = "200ms"
    }
  }
}

app "worker" {
  image = "registry.example.com/worker:1.0.0"

  service {
    check "health" { # ERROR: Check without a port
      path = "/healthz"
    }
  }
}
