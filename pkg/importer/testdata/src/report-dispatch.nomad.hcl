# A parameterized batch job, dispatched with a payload.
job "report" {
  datacenters = ["dc1"]
  type        = "batch"

  parameterized {
    payload       = "required"
    meta_required = ["customer"]
    meta_optional = ["format"]
  }

  meta {
    format = "pdf"
  }

  group "report" {
    task "render" {
      driver = "docker"

      config {
        image = "registry.example.com/reports:2.0.1"
        args  = ["--input", "${NOMAD_TASK_DIR}/input.json", "--customer", "${NOMAD_META_customer}"]
      }

      dispatch_payload {
        file = "input.json"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
