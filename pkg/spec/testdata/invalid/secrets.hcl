app "api" {
  image = "registry.example.com/api:1.0.0"

  env = {
    DB_PASSWORD       = "hunter2-but-longer" # ERROR: Literal secret in env
    UPLOAD_BUCKET_KEY = "AKIAIOSFODNN7EXAMPLE" # ERROR: Literal secret in env
    CACHE_URL         = "redis://cache:s3cr3t@redis:6379/0" # ERROR: Literal secret in env
    TOKEN_TTL         = "15m"
    PASSWORD_MIN_LEN  = "12"
    SECRET_FILE       = "/secrets/key.pem"
    AUTH_URL          = "https://auth.example.com/token"
    API_TOKEN         = "$${NOMAD_SECRETS_DIR}/token"
    STRIPE_KEY        = "sk_live_4eC39HqLyjWDarjtT1zdp7dc" # ERROR: Literal secret in env
    SESSION_SECRET    = "" 
    GREETING          = "hello"
    SHADOWED          = "plain"
  }

  secret "DB_PASS" {
    path = "secret/data/api/db" # ERROR: Secret path includes the mount
    key  = "password"
  }

  secret "SHADOWED" { # ERROR: Secret shadows env
    path = "api/other"
    key  = "value"
  }

  secret "TRAILING" {
    path = "api/db/" # ERROR: Invalid secret path
    key  = "" # ERROR: Empty secret key
  }

  secret "NOMAD_TOKEN" { # ERROR: Reserved environment variable name
    path = "api/nomad"
    key  = "token"
  }

  secret "MISSING_KEY" { # ERROR: Missing required argument
    path = "api/db"
  }
}
