app "café" { # ERROR: Not a text file
  image = "r/x:1"
}
