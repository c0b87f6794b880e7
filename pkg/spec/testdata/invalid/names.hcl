app "Billing_API" { # ERROR: Invalid app name
  image = "registry.example.com/billing:1.0.0"

  port "HTTP-port" { # ERROR: Invalid port label
    to = 8080
  }

  env = {
    "1BAD"        = "x" # ERROR: Invalid environment variable name
    NOMAD_ADDR    = "http://nomad:4646"
    CONSUL_HOST   = "consul.service.consul"
    VAULT_ADDR    = "https://vault:8200"
    NOMAD_PORTAL  = "https://portal.example.com"
    NOMAD_ALLOC_ID = "x" # ERROR: Reserved environment variable name
    NOMAD_PORT_http = "8080" # ERROR: Reserved environment variable name
    NOMAD_META_team = "shop" # ERROR: Reserved environment variable name
    VAULT_NAMESPACE = "shop" # ERROR: Reserved environment variable name
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

app "nomad-caller" {
  image     = "registry.example.com/caller:1.0.0"
  nomad_api = true

  env = {
    NOMAD_ADDR = "http://nomad:4646" # ERROR: Reserved environment variable name
  }

  secret "NOMAD_TOKEN" { # ERROR: Reserved environment variable name
    path = "caller/nomad"
    key  = "token"
  }
}
