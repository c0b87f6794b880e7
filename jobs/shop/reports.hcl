# A nightly batch job: builds the sales report from the database.
app "reports" {
  type  = "batch"
  image = "registry.example.com/shop/reports:${var.version}"

  resources {
    cpu    = 500
    memory = 512
  }

  secret "DB_PASSWORD" {
    path = "shop/db"
    key  = "password"
  }

  service {
    upstream "postgres" {
      local_port = 5432
    }
  }

  periodic {
    cron      = "0 3 * * *"
    time_zone = "UTC"
  }
}
