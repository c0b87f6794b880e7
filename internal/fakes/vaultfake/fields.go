package vaultfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The field types of Vault's framework.FieldData, converted the way its
// getPrimitive does (weakly: "true" is a bool, "30m" a duration, "a,b" a
// list). Request numbers arrive as json.Number.

func typeErr(want string, v any) error {
	return fmt.Errorf("expected type '%s', got unconvertible type '%T', value: '%v'", want, v, v)
}

func stringValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", typeErr("string", v)
}

// stringField reads an optional string field.
func stringField(data map[string]any, key string) (string, error) {
	s, err := stringValue(data[key])
	if err != nil {
		return "", fieldErr(key, err)
	}
	return s, nil
}

// fieldErr is FieldData.Validate's error, as a handler's request
// validation reports it ("Field validation failed: " + the text). On a
// path with an existence check (JWT roles) the check meets the bad field
// first and reports the text alone.
func fieldErr(key string, err error) error {
	//lint:ignore ST1005 Vault's own message, which drover's tests read
	return fmt.Errorf("Field validation failed: %w", convertErr(key, err))
}

func convertErr(key string, err error) error {
	return fmt.Errorf("error converting input for field %q: %v", key, err)
}

func boolValue(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if x == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("cannot parse '' as bool: %v", err)
		}
		return b, nil
	case json.Number:
		f, err := x.Float64()
		return f != 0, err
	}
	return false, typeErr("bool", v)
}

// durationSecondsValue is parseutil.ParseDurationSecond for a
// TypeDurationSecond field: a number of seconds, or a duration string
// ("30m", "1d"), not negative.
func durationSecondsValue(v any) (int64, error) {
	var secs int64
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			secs = i
		} else {
			f, err := x.Float64()
			if err != nil {
				return 0, err
			}
			secs = int64(f)
		}
	case string:
		x = strings.TrimSpace(x)
		if x == "" {
			return 0, nil
		}
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			secs = i
		} else if days, ok := strings.CutSuffix(x, "d"); ok {
			n, err := strconv.ParseInt(days, 10, 64)
			if err != nil {
				return 0, err
			}
			secs = n * 86400
		} else {
			d, err := time.ParseDuration(x)
			if err != nil {
				return 0, err
			}
			secs = int64(d.Seconds())
		}
	default:
		return 0, typeErr("duration", v)
	}
	if secs < 0 {
		return 0, fmt.Errorf("cannot provide negative value '%d'", secs)
	}
	return secs, nil
}

// commaSliceValue is parseutil.ParseCommaStringSlice.
func commaSliceValue(v any) ([]string, error) {
	switch x := v.(type) {
	case json.Number:
		return []string{x.String()}, nil
	case string:
		if x == "" {
			return []string{}, nil
		}
		parts := strings.Split(x, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := stringValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	return nil, typeErr("[]string", v)
}

func mapValue(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeErr("map[string]interface {}", v)
	}
	return normalizeNumbers(m).(map[string]any), nil
}

// normalizeNumbers turns json.Numbers into the int64 or float64 Vault
// would store them as.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	}
	return v
}

// kvPairsValue is TypeKVPairs: a map of strings, or a list of "k=v".
func kvPairsValue(v any) (map[string]string, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]string, len(x))
		for k, e := range x {
			s, err := stringValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := map[string]string{}
		for _, e := range x {
			s, err := stringValue(e)
			if err != nil {
				return nil, err
			}
			k, val, ok := strings.Cut(s, "=")
			if !ok {
				return nil, fmt.Errorf("invalid key value pair %q", s)
			}
			out[k] = val
		}
		return out, nil
	}
	return nil, typeErr("map[string]string", v)
}
