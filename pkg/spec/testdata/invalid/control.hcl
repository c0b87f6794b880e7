app "api" {
  image   = "registry.example.com/api:1.0.0\u001b[2J" # ERROR: Control character in string
  command = "/bin/api]0;owned" # ERROR: Control character in string
  args    = ["--name", "a\u0000b"] # ERROR: Control character in string

  env = {
    BANNER = "hello\u0007" # ERROR: Control character in string
    "KEY\u001b" = "x" # ERROR: Control character in string
    MOTD   = <<-EOT
	Welcome,	tabs and
	line breaks are text.
	EOT
    PLAIN  = "a\tb\r\nc"
  }

  meta = {
    owner = "team\u009b" # ERROR: Control character in string
  }
}
