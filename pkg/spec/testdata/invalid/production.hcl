app "edge" {
  image = "registry.example.com/edge:2.4.1"

  port "http" {
    static = 70000 # ERROR: Invalid port
  }

  port "admin" {
    to           = 9000
    host_network = "public" # ERROR: Host network of an unpublished port
  }

  port "bare" { # ERROR: Missing port number
  }

  service {
    mesh     = false
    name     = "edge"
    port     = "admin" # ERROR: Service at an unpublished port
    protocol = "http"  # ERROR: Protocol outside the mesh

    check "bad" {
      type    = "tcp"
      command = "/bin/x" # ERROR: Unsupported argument
    }

    check "script" { # ERROR: Missing command
      type = "script"
      task = "nope"   # ERROR: Unknown task
    }
  }

  service {
    mesh = false
    name = "edge"  # ERROR: Duplicate service name
    port = "admin" # ERROR: Service at an unpublished port

    check "early" {
      type           = "tcp"
      initial_status = "ok" # ERROR: Invalid initial_status
    }

    check "elsewhere" {
      type = "tcp"
      port = "nope" # ERROR: Unknown port
    }

    check "hidden" {
      type = "tcp"
      port = "admin" # ERROR: Check at an unpublished port
    }
  }

  service {
    mesh = false
    name = "edge-raw"
    port = 70000 # ERROR: Invalid port
  }

  service {
    mesh = false
    name = "edge-bare"

    check "where" { # ERROR: Check without a port
      type = "tcp"
    }
  }
}

app "agent" {
  type  = "system"
  image = "registry.example.com/agent:1.0.0"
  count = 2 # ERROR: No count for a system app

  task "tool" {
    driver  = "raw_exec"
    command = "/bin/tool"
    image   = "registry.example.com/tool:1.0.0" # ERROR: Image of a non-docker task
  }

  task "other" { # ERROR: Missing command
    driver = "exec"
  }

  task "weird" {
    driver  = "qemu" # ERROR: Invalid driver
    command = "x"
  }
}

app "meshy" {
  driver  = "raw_exec" # ERROR: A mesh app runs in a container
  command = "/bin/meshy"

  port "http" {
    to = 8080
  }

  service {
    name = "other" # ERROR: A mesh service is named after its app

    check "ready" {
      path = "/ready"
      port = "http" # ERROR: Check port in the mesh
    }
  }
}

app "shared" {
  image = "registry.example.com/shared:1.0.0"

  port "http" {
    to = 8080
  }

  service {
    allow_from = ["not-a-project-app"] # ERROR: Invalid allow_from

    upstream "drover/edge" { # ERROR: Upstream in this project
      local_port = 19000
    }

    upstream "Other/App" { # ERROR: Invalid upstream
      local_port = 19001
    }
  }
}

app "files" {
  image       = "registry.example.com/files:1.0.0"
  kill_signal = "TERM" # ERROR: Invalid kill_signal

  volume "data" {
    type   = "nfs" # ERROR: Invalid volume type
    source = "data"
  }

  volume "csi" { # ERROR: Incomplete CSI volume
    type   = "csi"
    source = "csi"
  }

  volume "host" {
    source    = "host"
    per_alloc = true # ERROR: CSI setting of a host volume
  }

  mount "nope" { # ERROR: Unknown volume
    path = "/data"
  }

  mount "host" {
    path = "relative" # ERROR: Invalid mount path
  }

  file "/etc/app.conf" { # ERROR: Invalid file destination
    content = "x"
  }

  file "local/delims.conf" {
    content        = "x"
    left_delimiter = " " # ERROR: Empty delimiter
    splay          = "-1s" # ERROR: Invalid duration
  }

  file "local/a.conf" {
    content     = "x"
    change_mode = "signal" # ERROR: Missing change_signal
    perms       = "rw" # ERROR: Invalid perms
  }

  file "local/b.conf" { # ERROR: File without content
  }

  file "local/tls.pem" { # WARNING: Secret file on disk
    content = "{{ with secret \"secret/data/files/tls\" }}{{ .Data.data.key }}{{ end }}"
    secrets = ["files/*"] # ERROR: Invalid secret path
  }

  task "helper" {
    driver  = "raw_exec"
    command = "/bin/helper"

    docker { # ERROR: Docker options of a non-docker task
      privileged = true
    }
  }
}

app "placed" {
  image    = "registry.example.com/placed:1.0.0"
  priority = 200 # ERROR: Invalid priority

  parameterized { # ERROR: Parameterized service
  }

  port "http" {
    static = 8088
  }

  service {
    mesh = false
    name = "placed"
    port = "http"

    sidecar { # ERROR: Sidecar outside the mesh
      cpu = 100
    }
  }
}

app "meshhost" {
  image   = "registry.example.com/meshhost:1.0.0"
  network = "host" # ERROR: A mesh app's network is bridge

  port "http" {
    to = 8080
  }

  service {}
}

app "weirdnet" {
  image   = "registry.example.com/weirdnet:1.0.0"
  network = "cni/mine" # ERROR: Invalid network
}

app "namedhelper" {
  image    = "registry.example.com/namedhelper:1.0.0"
  hostname = "named" # ERROR: Hostname with a non-docker task

  task "tool" {
    driver  = "raw_exec"
    command = "/bin/tool"
  }
}

app "namedhost" {
  image    = "registry.example.com/namedhost:1.0.0"
  network  = "host"
  hostname = "named" # ERROR: Hostname on the host network
}

app "twice" {
  image = "registry.example.com/twice:1.0.0"

  restart {
    attempts = 2
  }

  restart { # ERROR: Duplicate restart block
    attempts = 1
  }
}

app "taskservice" {
  image = "registry.example.com/taskservice:1.0.0"

  port "http" {
    publish = true
    to      = 8080
  }

  service {
    mesh     = false
    name     = "taskservice"
    port     = "http"
    task     = "nope"   # ERROR: Unknown task
    provider = "etcd"   # ERROR: Invalid provider
  }
}
