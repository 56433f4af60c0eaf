package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// protoMap renders an Any the way Envoy's config dump does (proto field names), as generic JSON.
func protoMap(m proto.Message) (map[string]any, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(js, &out)
}

// subset reports whether every field of want is in got: objects field by field (keys in either JSON case),
// each list element matching some element, scalars by value; absent fields in got are zero values.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got == nil && isZero(w)
		}
		for k, v := range w {
			gv, present := g[snakeCase(k)]
			if !present {
				gv, present = g[k]
			}
			if !present && !isZero(v) || present && !subset(v, gv) {
				return false
			}
		}
		return true
	case []any:
		g, _ := got.([]any)
		for _, wv := range w {
			if !anyMatches(wv, g) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(want) == fmt.Sprint(got)
	}
}

func anyMatches(want any, got []any) bool {
	for _, gv := range got {
		if subset(want, gv) {
			return true
		}
	}
	return false
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case map[string]any:
		for _, e := range x {
			if !isZero(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func snakeCase(s string) string {
	if strings.HasPrefix(s, "@") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func stringField(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func compact(v any) string {
	js, _ := json.Marshal(v)
	return string(js)
}
