# A log collector whose config template has {{ }} of its own (so it uses
# other delimiters), and whose network namespace is named after the client.
job "collector" {
  datacenters = ["dc1"]

  group "collector" {
    network {
      mode     = "bridge"
      hostname = "${attr.unique.hostname}"
      port "api" {
        to = 8686
      }
    }

    task "vector" {
      driver = "docker"

      config {
        image = "registry.example.com/vector:0.38.0"
        ports = ["api"]
      }

      template {
        destination          = "local/vector.toml"
        data                 = "[sources.in]\ntype = \"docker_logs\"\nlabel = \"{{ .Label }}\"\nendpoint = \"(( env \"NOMAD_ADDR_api\" ))\"\n"
        left_delimiter       = "(("
        right_delimiter      = "))"
        change_mode          = "signal"
        change_signal        = "SIGHUP"
        splay                = "10s"
        error_on_missing_key = true
      }
    }
  }
}
