# Configuration from Consul and Vault through templates, an artifact, and
# a vault block (which drover replaces with secret blocks).
job "billing" {
  datacenters = ["dc1"]

  group "billing" {
    count = 2

    network {
      port "http" {
        to = 8080
      }
    }

    task "billing" {
      driver = "docker"

      config {
        image = "registry.example.com/billing:5.1.0"
        ports = ["http"]
      }

      vault {
        role        = "billing"
        change_mode = "signal"
        change_signal = "SIGHUP"
      }

      artifact {
        source      = "https://releases.example.com/billing/geoip.tar.gz"
        destination = "local/geoip"
        options {
          checksum = "sha256:6a3b0f8e3e1d5c1b0a2a0c4c8f9e7d6b5a4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
        }
      }

      template {
        data        = <<EOH
{{ range service "postgres" }}DB_HOST={{ .Address }}
DB_PORT={{ .Port }}{{ end }}
{{ with secret "secret/data/billing/db" }}DB_PASSWORD={{ .Data.data.password }}{{ end }}
EOH
        destination = "secrets/db.env"
        env         = true
        change_mode = "restart"
      }

      template {
        data          = "feature_flags = {{ key \"billing/flags\" }}\n"
        destination   = "local/flags.conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        perms         = "0640"
        splay         = "10s"
      }

      template {
        data        = "# rendered by Nomad\nregion = {{ env \"NOMAD_REGION\" }}"
        destination = "local/region.conf"
      }

      resources {
        cpu    = 300
        memory = 300
      }
    }
  }
}
