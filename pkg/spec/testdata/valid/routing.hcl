# One public host split between three apps by path, plus a host of its own.
app "web" {
  image = "registry.example.com/web:2.1.0"

  port "http" {
    to = 3000
  }

  service {}

  expose {
    hosts = ["example.com"]
  }
}

app "api" {
  image = "registry.example.com/api:2.1.0"

  port "http" {
    to = 8080
  }

  service {}

  expose {
    hosts = ["example.com", "api.example.com"]
    path  = "/api"
  }
}

app "docs" {
  image = "registry.example.com/docs:2.1.0"

  port "http" {
    to = 8000
  }

  service {}

  expose {
    hosts = ["example.com"]
    path  = "/docs"
  }
}
