app "api" {
  image = "registry.example.com/api:1.0.0"

  env = {
    DB_PASSWORD       = "hunter2-but-longer" # ERROR: Literal secret in env
    AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
    AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" # ERROR: Literal secret in env
    ALLOW_EMPTY_PASSWORD = "no"
    REQUIRE_TOKEN     = "yes"
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

  secret "VAULT_TOKEN" { # ERROR: Reserved environment variable name
    path = "api/vault"
    key  = "token"
  }

  secret "NOMAD_TOKEN" {
    path = "api/nomad"
    key  = "token"
  }

  secret "GLOB" {
    path = "api/*" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "SEGMENT_GLOB" {
    path = "api/+/db" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "INNER_GLOB" {
    path = "api/db*" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "DOTDOT" {
    path = "api/../billing/db" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "DOT" {
    path = "./api/db" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "DOUBLED" {
    path = "api//db" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "LEADING" {
    path = "/api/db" # ERROR: Invalid secret path
    key  = "value"
  }

  secret "PLUS_IN_NAME" {
    path = "api/c++/db"
    key  = "value"
  }

  secret "MISSING_KEY" { # ERROR: Missing required argument
    path = "api/db"
  }
}
