app "api" {
  image = "registry.example.com/api:1.0.0"
  count = 1e12 # ERROR: Number too large

  port "http" {
    to = 99999999999999999999999 # ERROR: Number too large
  }

  resources {
    cpu    = -1e12 # ERROR: Number too small
    memory = 2147483647
    memory_max = 2.5 # ERROR: Incorrect attribute value type
  }
}
