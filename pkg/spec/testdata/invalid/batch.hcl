app "report" {
  type  = "batch"
  image = "registry.example.com/report:1.0.0"

  scaling { # ERROR: Not allowed in a batch app
    min = 1
    max = 2
  }

  update { # ERROR: Not allowed in a batch app
  }

  periodic {
    cron      = "every night" # ERROR: Invalid cron expression
    time_zone = "Mars/Olympus" # ERROR: Invalid time zone
  }
}

app "api" {
  image = "registry.example.com/api:1.0.0"

  periodic { # ERROR: Periodic service
    cron = "0 3 * * *"
  }
}

app "job" {
  type  = "cron" # ERROR: Invalid app type
  image = "registry.example.com/job:1.0.0"
}
