# The managed database, outside Nomad.
external "postgres" {
  address = "db.internal.example.com"
  port    = 5432
}
