# The public storefront: the only app reachable from outside, through the
# ingress gateway. It calls the internal API by name through the mesh.
app "web" {
  image = "registry.example.com/shop/web:${var.version}"
  count = 2

  port "http" {
    to = 3000
  }

  resources {
    cpu    = 200
    memory = 256
  }

  env = {
    API_URL   = "http://127.0.0.1:9090" # the api upstream below
    LOG_LEVEL = "info"
  }

  service {
    port = "http"

    check "ready" {
      type     = "http"
      path     = "/ready"
      interval = "10s"
      timeout  = "2s"
    }

    upstream "api" {
      local_port = 9090
    }
  }

  expose {
    hosts = ["shop.example.com", "www.shop.example.com"]
    path  = "/"
  }

  update {
    max_parallel = 1
    canary       = 1
    auto_promote = true
    auto_revert  = true
  }

  environment "staging" {
    count = 1
    expose {
      hosts = ["shop.staging.example.com"]
    }
  }

  environment "prod" {
    count = 4
    resources {
      cpu    = 400
      memory = 512
    }
  }
}
