# A CSI node plugin: a privileged system job with a csi_plugin block.
job "ebs-node" {
  datacenters = ["dc1"]
  type        = "system"

  group "nodes" {
    task "plugin" {
      driver = "docker"

      config {
        image      = "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.31.0"
        privileged = true
        args       = ["node", "--endpoint=unix://csi/csi.sock", "--logtostderr", "--v=5"]
      }

      csi_plugin {
        id        = "aws-ebs0"
        type      = "node"
        mount_dir = "/csi"
      }

      resources {
        cpu    = 100
        memory = 128
      }
    }
  }
}
