// A stand-in for mattermost-push-proxy in the push host test: the same flags, config file and endpoints
// (GET /version, POST /api/v1/send_push and /api/v1/ack), answering without calling Apple or Google.
// Like the real proxy it reads the credential files named in its config at start and logs
// "Failed to initialize client" when it cannot, so the provisioning health gate is exercised.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
)

type config struct {
	ListenAddress     string
	ApplePushSettings []struct {
		Type                 string
		AppleAuthKeyFile     string
		ApplePushCertPrivate string
	}
	AndroidPushSettings []struct {
		Type                string
		ServiceFileLocation string
	}
}

func main() {
	configPath := flag.String("config", "mattermost-push-proxy.json", "")
	version := flag.Bool("version", false, "")
	flag.Parse()
	if *version {
		fmt.Println("fake-push-proxy")
		return
	}
	raw, err := os.ReadFile(*configPath)
	if err != nil {
		fmt.Println("cannot read config:", err)
		os.Exit(1)
	}
	var settings config
	if err := json.Unmarshal(raw, &settings); err != nil {
		fmt.Println("cannot parse config:", err)
		os.Exit(1)
	}
	for _, apple := range settings.ApplePushSettings {
		for _, file := range []string{apple.AppleAuthKeyFile, apple.ApplePushCertPrivate} {
			if file == "" {
				continue
			}
			if _, err := os.ReadFile(file); err != nil {
				fmt.Printf("Failed to initialize client for %s: %v\n", apple.Type, err)
			}
		}
	}
	for _, android := range settings.AndroidPushSettings {
		if _, err := os.ReadFile(android.ServiceFileLocation); err != nil {
			fmt.Printf("Failed to initialize client for %s: %v\n", android.Type, err)
		}
	}

	answer := func(writer http.ResponseWriter, request *http.Request) {
		fmt.Printf("%s %s xff=%s\n", request.Method, request.URL.Path, request.Header.Get("X-Forwarded-For"))
		writer.Header().Set("Content-Type", "application/json")
		if request.Method != http.MethodPost {
			writer.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprint(writer, `{"status":"OK"}`)
	}
	http.HandleFunc("/api/v1/send_push", answer)
	http.HandleFunc("/api/v1/ack", answer)
	http.HandleFunc("/version", func(writer http.ResponseWriter, request *http.Request) {
		fmt.Fprint(writer, `{"version":"fake"}`)
	})
	http.HandleFunc("/metrics", func(writer http.ResponseWriter, request *http.Request) {
		fmt.Fprint(writer, "push_metrics 1\n")
	})
	fmt.Println("listening on", settings.ListenAddress)
	if err := http.ListenAndServe(settings.ListenAddress, nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
