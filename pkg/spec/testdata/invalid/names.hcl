app "Billing_API" { # ERROR: Invalid app name
  image = "registry.example.com/billing:1.0.0"

  port "HTTP-port" { # ERROR: Invalid port label
    to = 8080
  }

  env = {
    "1BAD"        = "x" # ERROR: Invalid environment variable name
    NOMAD_ADDR    = "http://nomad:4646" # ERROR: Reserved environment variable name
    GOOD_NAME     = "ok"
  }
}

app "api" {
  image = "registry.example.com/api:1.0.0"
}

app "api" { # ERROR: Duplicate service name
  image = "registry.example.com/api:2.0.0"
}

external "api" { # ERROR: Duplicate service name
  address = "api.example.com"
  port    = 443
}
