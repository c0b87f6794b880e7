// Package nomadx is drover's thin adapter over the official Nomad API
// client: every call takes a context (and is cancelled with it), transient
// failures are retried with capped jittered backoff, and every error is an
// *apierr.Error naming the operation, the object and Nomad's reason.
//
// It holds no business logic: what to register and in which order is
// pkg/app's concern.
package nomadx
