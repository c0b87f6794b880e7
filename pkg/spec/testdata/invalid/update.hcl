app "api" {
  image = "registry.example.com/api:1.0.0"

  update {
    auto_promote     = true # ERROR: Auto-promote without canaries
    min_healthy_time = "10m" # ERROR: Invalid update timing
    healthy_deadline = "5m"
  }
}

app "web" {
  image = "registry.example.com/web:1.0.0"

  update {
    healthy_deadline  = "10m" # ERROR: Invalid update timing
    progress_deadline = "10m"
  }
}
