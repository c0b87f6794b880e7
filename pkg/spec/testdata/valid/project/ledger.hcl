variable "replicas" {
  type    = number
  default = 3
}

app "ledger" {
  image = format("registry.acme.example/%s:%s", "ledger", var.version)
  count = var.replicas

  port "http" {
    to = 8080
  }

  env = {
    ENVIRONMENT = upper(coalesce(drover.environment, "dev"))
    PROJECT     = drover.project
    FEATURES    = join(",", ["audit", "fx"])
    PORT        = 8080
    DEBUG       = false
  }

  secret "DB_PASSWORD" {
    path = "ledger/db"
    key  = "password"
  }

  service {
    upstream "bank" {
      local_port = 9443
    }
  }

  expose {
    hosts = var.public_hosts
  }

  environment "staging" {
    count = 1
    env = {
      DEBUG = true
    }
    expose {
      hosts = ["pay.staging.acme.example"]
    }
  }

  environment "prod" {
    image = "registry.acme.example/ledger:${var.version}-hardened"
    resources {
      memory = 1024
    }
  }
}

external "bank" {
  address  = "api.bank.example"
  port     = 443
  protocol = "tcp"
}
