app "api" {
  image = "registry.example.com/api:1.0.0"

  port "http" {
    to = 8080
  }

  port "admin" {
    to = 8080 # ERROR: Duplicate container port
  }

  port "metrics" {
    to = 70000 # ERROR: Invalid port
  }

  service {
    port = "htp" # ERROR: Unknown port
  }
}

app "web" {
  image = "registry.example.com/web:1.0.0"

  port "http" {
    to = 3000
  }

  port "grpc" {
    to = 3001
  }

  service { # ERROR: Ambiguous service port
  }
}
