app "api" {
  image = "registry.example.com/api:1.0.0"
  count = 12 # ERROR: Count outside scaling bounds

  scaling {
    min = 2
    max = 10

    policy {
      on_check_error = "explode" # ERROR: Invalid on_check_error

      check "cpu" {
        query = "avg_cpu-allocated"
        strategy "target-value" {
          target       = 70
          higher_bound = 90 # ERROR: Unknown strategy key
          threshold    = -1 # ERROR: Invalid strategy value
        }
      }

      check "typo" {
        query = "average_cpu" # ERROR: Invalid nomad-apm query
        strategy "target-valu" { # ERROR: Unknown scaling strategy
        }
      }

      check "no-target" {
        query = "avg_memory"
        strategy "target-value" { # ERROR: Missing strategy key
        }
      }

      check "band" {
        query = "max_cpu"
        strategy "threshold" {
          lower_bound           = 80
          upper_bound           = 80 # WARNING: Threshold band can never fire
          delta                 = 1
          within_bounds_trigger = 1
        }
      }

      check "trigger" {
        query = "max_cpu"
        strategy "threshold" { # WARNING: Threshold trigger can never be reached
          lower_bound = 90
          delta       = 2
        }
      }

      check "both" {
        query = "max_cpu"
        strategy "threshold" { # ERROR: Missing threshold bound
          delta      = 1
          percentage = 10 # ERROR: Conflicting threshold actions
        }
      }

      check "hot" {
        query = "avg_memory-allocated"
        strategy "threshold" {
          lower_bound           = 70
          delta                 = 1
          within_bounds_trigger = 1
        }
      }

      check "cold" {
        query = "avg_memory-allocated"
        strategy "threshold" {
          upper_bound           = 80
          lower_bound           = 0 # WARNING: Threshold bands overlap
          delta                 = -1
          within_bounds_trigger = 1
        }
      }

      check "now" {
        source       = "prometheus"
        query        = "up"
        query_window = "instant"
        strategy "threshold" { # ERROR: Threshold trigger can never be reached
          lower_bound = 1
          value       = 3
        }
      }

      check "nostrategy" { # ERROR: Missing strategy
        query = "avg_cpu"
      }

      check "noquery" { # ERROR: Missing check query
        strategy "target-value" {
          target = 50
        }
      }
    }
  }
}

app "web" {
  image = "registry.example.com/web:1.0.0"

  scaling {
    min = 5
    max = 3 # ERROR: Invalid scaling bounds
    policy { # ERROR: Missing policy check
    }
  }
}

app "tuned" {
  image = "registry.example.com/tuned:1.0.0"

  scaling {
    min = 1
    max = 4
    policy {
      check "pin" {
        strategy "fixed-value" {
          value = 2
        }
      }
      drover {
        scale_down {
          stabilization_window = "3h" # ERROR: Invalid drover block
        }
        flap_guard = true # ERROR: Unsupported argument
      }
    }
  }
}

app "tolerant" {
  image = "registry.example.com/tolerant:1.0.0"

  scaling {
    min = 1
    max = 4
    policy {
      check "pin" {
        strategy "fixed-value" {
          value = 2
        }
      }
      drover {
        scale_up {
          tolerance = 1.5 # ERROR: Invalid drover block
        }
      }
    }
  }
}

app "limited" {
  image = "registry.example.com/limited:1.0.0"

  scaling {
    min = 1
    max = 4
    policy {
      check "pin" {
        strategy "fixed-value" {
          value = 2
        }
      }
      drover {
        scale_down {
          rate { # ERROR: Invalid drover block
            type   = "replicas"
            value  = 1
            period = "1m"
          }
        }
      }
    }
  }
}
