# A batch job that runs on a cron schedule.
app "myapp" {
  type  = "batch"
  image = "registry.example.com/team/myapp:0.1.0"

  resources {
    cpu    = 200 # MHz
    memory = 256 # MiB
  }

  periodic {
    cron      = "0 3 * * *"
    time_zone = "UTC"
  }
}
