# A queue worker: serves nothing, but calls the API and the database through
# the mesh, so it gets a sidecar with upstreams and no port.
app "worker" {
  image = "registry.example.com/shop/worker:${var.version}"
  count = 2

  command = "/bin/worker"
  args    = ["--queue", "orders", "--concurrency", "4"]

  resources {
    cpu    = 300
    memory = 192
  }

  env = {
    API_URL = "http://127.0.0.1:9090"
  }

  secret "DB_PASSWORD" {
    path = "shop/db"
    key  = "password"
  }

  service {
    upstream "api" {
      local_port = 9090
    }

    upstream "postgres" {
      local_port = 5432
    }
  }

  # A log shipper beside the worker for the whole life of the group.
  task "log-shipper" {
    image = "registry.example.com/platform/vector:0.41.1"

    resources {
      cpu    = 50
      memory = 64
    }

    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
  }
}
