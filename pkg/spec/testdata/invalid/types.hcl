app "api" {
  image = "registry.example.com/api:1.0.0"
  count = "two" # ERROR: Incorrect attribute value type
  nomad_api = "sometimes" # ERROR: Incorrect attribute value type
  args  = "--verbose" # ERROR: Incorrect attribute value type
  env = {
    LOG_LEVEL = ["info"] # ERROR: Incorrect attribute value type
    LOG_LEVEL = "debug" # ERROR: Duplicate map key
  }

  port "http" {
    to = 80.5 # ERROR: Incorrect attribute value type
  }

  service {
    check "health" {
      path     = "/healthz"
      interval = "10 seconds" # ERROR: Invalid duration
    }
  }
}
