# A task driver drover does not render.
job "ledger" {
  datacenters = ["dc1"]

  group "ledger" {
    task "ledger" {
      driver = "java"

      config {
        jar_path    = "local/ledger.jar"
        jvm_options = ["-Xmx512m"]
      }

      artifact {
        source = "https://releases.example.com/ledger/ledger-3.1.jar"
        destination = "local/ledger.jar"
        mode = "file"
      }
    }
  }
}
