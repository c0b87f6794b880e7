app "web" {
  image = "registry.example.com/web:1.0.0"

  port "http" {
    to = 3000
  }

  service {
    port = "http"
  }

  expose {
    hosts = ["shop.example.com", "not a host"] # ERROR: Invalid host
    path  = "docs" # ERROR: Invalid path
  }
}

app "db" {
  image = "registry.example.com/db:1.0.0"

  port "pg" {
    to = 5432
  }

  service {
    protocol = "tcp"
  }

  expose { # ERROR: Expose needs an http service
    hosts = ["db.example.com"]
  }
}

app "worker" {
  image = "registry.example.com/worker:1.0.0"

  expose { # ERROR: Expose without a service
    hosts = ["worker.example.com"]
  }
}

app "shop" {
  image = "registry.example.com/shop:1.0.0"

  port "http" {
    to = 3000
  }

  service {}

  expose {
    hosts = ["shop.example.com"] # ERROR: Public route conflict
    path  = "docs" # ERROR: Invalid path | ERROR: Shared host without a default app
  }
}

app "api" {
  image = "registry.example.com/api:1.0.0"

  port "http" {
    to = 8080
  }

  service {}

  expose {
    hosts = ["api.example.com"]
    path  = "/v1"
  }
}

app "admin" {
  image = "registry.example.com/admin:1.0.0"

  port "http" {
    to = 8080
  }

  service {}

  expose {
    hosts = ["api.example.com"]
    path  = "/admin" # ERROR: Shared host without a default app
  }
}
