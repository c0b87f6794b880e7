app "api" {
  image = "registry.example.com/api:1.0.0"

  port "http" {
    to = 8080
  }

  service {
    upstream "api" { # ERROR: Upstream to itself
      local_port = 9000
    }

    upstream "paymnets" { # ERROR: Unknown upstream
      local_port = 9001
    }

    upstream "worker" { # ERROR: Upstream has no service
      local_port = 9002
    }

    upstream "db" {
      local_port = 8080 # ERROR: Local port collision
    }

    upstream "payments" {
      local_port = 9002 # ERROR: Local port collision
    }
  }
}

app "worker" {
  image = "registry.example.com/worker:1.0.0"
}

external "payments" {
  address = "api.payments.example.net"
  port    = 443
}

external "db" {
  address = "10.0.0.5"
  port    = 5432
}
