app "api" {
  image   = "registry.example.com/api:3.0.0"
  command = "/bin/api"
  args    = ["serve", "--port=8080"]

  port "http" {
    to = 8080
  }

  resources {
    cpu        = 250
    memory     = 128
    memory_max = 256
  }

  secret "DB_PASSWORD" {
    path = "api/db"
    key  = "password"
  }

  secret "DB_USER" {
    path = "api/db"
    key  = "user"
  }

  secret "TLS_KEY" {
    path = "api/tls"
    key  = "private-key"
  }

  service {
    check "health" {
      path   = "/healthz"
      method = "HEAD"
    }
  }

  task "migrate" {
    image = "registry.example.com/api-migrate:3.0.0"

    secret "DB_PASSWORD" {
      path = "api/db"
      key  = "password"
    }

    lifecycle {
      hook = "prestart"
    }
  }

  task "proxy" {
    image = "registry.example.com/sidecar:1.2.0"
    env = {
      UPSTREAM = "127.0.0.1:8080"
    }

    lifecycle {
      hook    = "prestart"
      sidecar = true
    }
  }
}
