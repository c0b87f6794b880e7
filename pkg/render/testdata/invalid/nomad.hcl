app "api" {
  image = "registry.example.com/api:1.0.0"

  port "http" {
    to = 8080
  }

  service {}

  nomad {
    count = 3 # ERROR: "count" is drover's
    kill_timout = "5s" # ERROR: Unsupported argument

    network { # ERROR: A mesh app's network is bridge
      mode = "host"
    }

    restart {
      attempts = "many" # ERROR: Invalid value for "attempts"
    }

    task "api" {
      driver = "exec" # ERROR: "driver" is drover's
      kill_timeout = "forever" # ERROR: Invalid value for "kill_timeout"
      vault { # ERROR: "vault" is drover's
      }
    }

    task "nope" { # ERROR: Unknown task
    }
  }
}

app "pull" {
  image = "registry.example.com/pull:1.0.0"

  docker { # ERROR: Registry password in the job | ERROR: "image" is drover's
    image = "other:1"
    auth {
      username = "ci"
      password = "hunter2"
    }
  }
}

app "fetcher" {
  image = "registry.example.com/fetcher:1.0.0"

  artifact {
    sorce = "https://example.com/data.tgz" # ERROR: Unsupported argument
  }

  task "init" {
    image = "registry.example.com/init:1.0.0"

    lifecycle {
      hook = "prestart"
    }

    restart {
      attempts = "twice" # ERROR: Invalid value for "attempts"
    }
  }
}
