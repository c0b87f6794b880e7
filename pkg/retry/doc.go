// Package retry retries an operation with capped exponential backoff and
// jitter, honouring its context in every wait: the retry loop of every API
// adapter. It knows nothing of what makes an error worth retrying; callers
// pass that in.
package retry
