# What production jobs carry beyond the mesh: ports published on the host,
# a node agent on every client, helpers on the client itself, and Nomad's
# own vocabulary for the long tail.

app "edge" {
  image = "registry.example.com/edge:2.4.1"

  port "http" {
    static       = 80
    to           = 8080
    host_network = "public"
  }

  port "metrics" {
    publish = true
    to      = 9100
  }

  port "admin-ui" {
    publish = true
    to      = 9900
  }

  # Outside the mesh: Consul registers these at the published host ports.
  service {
    mesh        = false
    name        = "edge"
    port        = "http"
    tags        = ["public"]
    canary_tags = ["canary"]

    check "ready" {
      type   = "http"
      path   = "/ready"
      header = { Host = "edge.example.com" }

      check_restart {
        limit = 3
        grace = "30s"
      }
    }

    check "config" {
      type    = "script"
      command = "/bin/edge"
      args    = ["check-config"]
    }
  }

  service {
    mesh = false
    name = "edge-metrics"
    port = "metrics"
    meta = { scrape = "true" }

    check "alive" {
      type           = "tcp"
      initial_status = "passing"
    }
  }

  # No port (the app has several): the address alone, its check probing a
  # published port.
  service {
    mesh = false
    name = "edge-host"

    check "alive" {
      type = "tcp"
      port = "metrics"
    }
  }

  # One name on several ports; a check may probe another published port.
  service {
    mesh = false
    name = "edge-metrics"
    port = "admin-ui"

    check "admin-health" {
      type = "http"
      path = "/health"
      port = "metrics"
    }
  }

  # Nomad's own group blocks, as in a job file, at the app level.
  constraint {
    attribute = "$${node.class}"
    value     = "edge"
  }

  constraint {
    operator = "distinct_hosts"
    value    = "true"
  }

  spread {
    attribute = "$${node.datacenter}"
  }

  restart {
    attempts = 5
    interval = "10m"
    delay    = "15s"
    mode     = "delay"
  }

  reschedule {
    unlimited      = true
    delay_function = "exponential"
  }

  ephemeral_disk {
    size   = 300
    sticky = true
  }

  volume "certs" {
    source    = "edge-certs"
    read_only = true
  }

  volume "cache" {
    type            = "csi"
    source          = "edge-cache"
    access_mode     = "single-node-writer"
    attachment_mode = "file-system"
    per_alloc       = true
  }

  mount "certs" {
    path      = "/etc/edge/certs"
    read_only = true
  }

  mount "cache" {
    path = "/var/cache/edge"
  }

  kill_timeout   = "45s"
  kill_signal    = "SIGQUIT"
  shutdown_delay = "5s"

  file "local/edge.conf" {
    content       = "upstreams = {{ key \"edge/upstreams\" }}\n"
    change_mode   = "signal"
    change_signal = "SIGHUP"
    mount         = "/etc/edge/edge.conf"
  }

  file "local/backends.conf" {
    content = "{{ range service \"api\" }}server {{ .Address }}:{{ .Port }}\n{{ end }}"
  }

  file "local/limits.conf" {
    content = "{{ with nomadVar \"nomad/jobs/edge\" }}rate = {{ .rate }}{{ end }}\n"
  }

  # A template with {{ }} of its own, under other delimiters; changes
  # applied after a random wait of up to 30s, a missing key an error.
  file "local/routes.tmpl" {
    content              = "route = (( key \"edge/route\" )) # {{ .Path }} is the proxy's"
    left_delimiter       = "(("
    right_delimiter      = "))"
    splay                = "30s"
    error_on_missing_key = true
  }

  file "secrets/tls.pem" {
    content = "{{ with secret \"secret/data/edge/tls\" }}{{ .Data.data.cert }}{{ end }}\n"
    secrets = ["edge/tls"]
    perms   = "0600"
  }

  docker {
    cap_add = ["NET_BIND_SERVICE"]

    logging {
      type = "json-file"

      config {
        max-size = "10m"
      }
    }
  }

  # The long tail, in Nomad's own vocabulary.
  nomad {
    task "edge" {
      logs {
        max_files     = 3
        max_file_size = 20
      }
    }
  }
}

app "node-exporter" {
  type  = "system"
  image = "registry.example.com/node-exporter:1.8.2"
  args  = ["--path.rootfs=/host"]

  port "metrics" {
    static = 9101
  }

  # A port number is advertised as it is: a port the agent listens on
  # beside Nomad's mapping.
  service {
    mesh = false
    name = "node-exporter-textfile"
    port = 9102
  }

  # Fetched before the task starts, from Nomad's artifact block.
  artifact {
    source      = "https://releases.example.com/node-exporter/textfile-collectors.tar.gz"
    destination = "local/collectors"
  }

  task "log-rotate" {
    driver  = "raw_exec"
    command = "/usr/sbin/logrotate"
    args    = ["/etc/logrotate.d/nomad"]

    lifecycle {
      hook    = "poststart"
      sidecar = true
    }

    # A helper's own restart policy, over the app's.
    restart {
      attempts = 10
      delay    = "30s"
    }
  }
}

app "report" {
  type        = "batch"
  image       = "registry.example.com/report:3.1.0"
  hostname    = "report" # the group's network namespace's
  datacenters = ["dc2"]
  node_pool   = "batch"
  priority    = 30

  parameterized {
    payload       = "optional"
    meta_required = ["customer"]
  }
}

app "api" {
  image = "registry.example.com/api:5.0.0"

  port "http" {
    to = 8080
  }

  service {
    sidecar {
      cpu    = 200
      memory = 96
    }

    upstream "report-db" {
      local_port = 15432
      datacenter = "dc2"
    }
  }
}

external "report-db" {
  address = "db.dc2.example.com"
  port    = 5432
}

app "legacy" {
  image   = "registry.example.com/legacy:9.0.0"
  network = "host"

  port "http" {
    static = 8500
    to     = 8080
  }
}

app "storage-node" {
  type  = "system"
  image = "registry.example.com/csi-driver:1.2.0"

  csi_plugin {
    id        = "ebs"
    type      = "node"
    mount_dir = "/csi"
  }

  docker {
    privileged = true
  }

  port "metrics" {
    publish = true
    to      = 9808
  }

  # Registered from the task, with its life, in Nomad's own discovery.
  service {
    mesh     = false
    name     = "csi-metrics"
    port     = "metrics"
    task     = "storage-node"
    provider = "nomad"
  }

  file "local/driver.env" {
    content = "REGION={{ env \"attr.platform.aws.placement.availability-zone\" }}\n"
    env     = true
  }

  volume "scratch" {
    source          = "scratch"
    access_mode     = "single-node-writer"
    attachment_mode = "file-system"
  }
}
