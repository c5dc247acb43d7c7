// Command settingsprobe asks the real Mattermost, at the pinned commit, two things the program's
// validation must agree with (tests/chat/settingsSchema.test.ts):
//
//	settingsprobe schema       the settings Mattermost has, each with the kind of value it reads, and
//	                           the ones it treats as secret (those Config.Sanitize masks)
//	settingsprobe load <file>  loads <file> with the MM_* variables of this process exactly as the
//	                           server does at start (config store: defaults, environment, IsValid);
//	                           prints {"config": <effective config>} or {"error": "..."}
//
// Both print JSON on stdout and exit 0; anything else is a failure of the probe itself.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/v8/config"
)

const sentinel = "settingsprobe-sentinel"

type schema struct {
	Sections map[string]map[string]string `json:"sections"`
	Secrets  []string                     `json:"secrets"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: settingsprobe schema | settingsprobe load <config.json>")
	}
	switch os.Args[1] {
	case "schema":
		print(buildSchema())
	case "load":
		if len(os.Args) != 3 {
			fail("usage: settingsprobe load <config.json>")
		}
		print(load(os.Args[2]))
	default:
		fail("unknown command " + os.Args[1])
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(2)
}

func print(value any) {
	out, err := json.Marshal(value)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(out))
}

func load(path string) map[string]any {
	store, err := config.NewStoreFromDSN(path, true, nil, false)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	defer store.Close()
	return map[string]any{"config": store.Get()}
}

// kindOf names a field's type by how the environment loader (config/environment.go) reads it.
func kindOf(t reflect.Type) string {
	if t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[json.RawMessage]():
		return "json"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "integer"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list"
	case t.Kind() == reflect.Map:
		return "map"
	case t.Kind() == reflect.Struct:
		return "struct"
	case t.Kind() == reflect.Slice:
		return "structList"
	default:
		// Read by nothing in the loader (floats, other ints): an environment variable cannot set it.
		return "unreadable:" + t.String()
	}
}

func buildSchema() schema {
	result := schema{Sections: map[string]map[string]string{}, Secrets: []string{}}
	configType := reflect.TypeFor[model.Config]()
	for i := 0; i < configType.NumField(); i++ {
		section := configType.Field(i)
		sectionType := section.Type
		if sectionType.Kind() == reflect.Ptr {
			sectionType = sectionType.Elem()
		}
		keys := map[string]string{}
		for j := 0; j < sectionType.NumField(); j++ {
			field := sectionType.Field(j)
			keys[field.Name] = kindOf(field.Type)
		}
		result.Sections[section.Name] = keys
	}

	cfg := &model.Config{}
	cfg.SetDefaults()
	filled := reflect.ValueOf(cfg).Elem()
	fill(filled)
	cfg.Sanitize(nil, nil)
	result.Secrets = masked(filled, "")
	sort.Strings(result.Secrets)
	return result
}

// fill puts the sentinel into every string the config can hold, making one element of every list and
// map, so that Sanitize shows which of them it masks or drops.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(sentinel)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			return
		}
		slice := reflect.MakeSlice(v.Type(), 1, 1)
		fill(slice.Index(0))
		v.Set(slice)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		element := reflect.New(v.Type().Elem()).Elem()
		if element.Kind() == reflect.Interface {
			element = reflect.ValueOf(sentinel)
		} else {
			fill(element)
		}
		key := reflect.New(v.Type().Key()).Elem()
		fill(key)
		m.SetMapIndex(key, element)
		v.Set(m)
	}
}

// masked lists the paths where the sentinel is gone after Sanitize.
func masked(v reflect.Value, path string) []string {
	var paths []string
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch v.Kind() {
	case reflect.Ptr, reflect.Interface:
		if v.IsNil() {
			return []string{path}
		}
		return masked(v.Elem(), path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				paths = append(paths, masked(v.Field(i), join(v.Type().Field(i).Name))...)
			}
		}
	case reflect.String:
		if v.String() != sentinel {
			paths = append(paths, path)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			return nil
		}
		if v.Len() == 0 {
			return []string{path}
		}
		paths = append(paths, masked(v.Index(0), path+"[]")...)
	case reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		for _, key := range v.MapKeys() {
			paths = append(paths, masked(v.MapIndex(key), path+"{}")...)
		}
	}
	return paths
}
