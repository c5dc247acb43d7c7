// Tests of the STAND-IN command provider (see main.go and README.md): an SSH server in the test process, made
// with golang.org/x/crypto/ssh, that runs each exec request with the local /bin/sh and serves SFTP with
// github.com/pkg/sftp, so the provider's SSH and SFTP paths run for real on loopback.
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// execRecord is what the server saw of one exec request.
type execRecord struct {
	Command string
	Env     map[string]string
	Stdin   string
}

type testServer struct {
	t        *testing.T
	listener net.Listener
	config   *ssh.ServerConfig
	// hostKeys are the server's host keys, in authorized_keys format.
	hostKeys []string
	// clientKey is the PEM private key the server accepts.
	clientKey string
	// acceptEnv lists the variables the server accepts (AcceptEnv).
	acceptEnv map[string]bool

	mu    sync.Mutex
	execs []execRecord
}

func newSigner(t *testing.T, kind string) (ssh.Signer, string) {
	t.Helper()
	var key any
	switch kind {
	case "ed25519":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = priv
	case "ecdsa":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = priv
	default:
		t.Fatalf("unknown key kind %s", kind)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	return signer, string(pem.EncodeToMemory(block))
}

func authorizedLine(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// startServer starts a server with host keys of the given kinds, accepting one generated client key and
// the password "secret-password".
func startServer(t *testing.T, hostKeyKinds ...string) *testServer {
	t.Helper()
	if len(hostKeyKinds) == 0 {
		hostKeyKinds = []string{"ed25519"}
	}
	clientSigner, clientPEM := newSigner(t, "ed25519")
	s := &testServer{t: t, clientKey: clientPEM, acceptEnv: map[string]bool{}}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(clientSigner.PublicKey().Marshal()) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown key")
		},
		PasswordCallback: func(_ ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if string(password) == "secret-password" {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("wrong password")
		},
	}
	for _, kind := range hostKeyKinds {
		signer, _ := newSigner(t, kind)
		s.config.AddHostKey(signer)
		s.hostKeys = append(s.hostKeys, authorizedLine(signer.PublicKey()))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.listener = l
	t.Cleanup(func() { _ = l.Close() })
	go s.serve()
	return s
}

func (s *testServer) port() float64 {
	return float64(s.listener.Addr().(*net.TCPAddr).Port)
}

func (s *testServer) records() []execRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]execRecord(nil), s.execs...)
}

func (s *testServer) serve() {
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		go s.handle(conn)
	}
}

func (s *testServer) handle(conn net.Conn) {
	_, channels, requests, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		_ = conn.Close()
		return
	}
	go ssh.DiscardRequests(requests)
	for newChannel := range channels {
		if newChannel.ChannelType() != "session" {
			_ = newChannel.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		channel, chanRequests, err := newChannel.Accept()
		if err != nil {
			continue
		}
		go s.session(channel, chanRequests)
	}
}

// sshString reads one SSH wire string from the front of b.
func sshString(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint32(len(b)-4) < n {
		return "", nil, false
	}
	return string(b[4 : 4+n]), b[4+n:], true
}

func (s *testServer) session(channel ssh.Channel, requests <-chan *ssh.Request) {
	defer func() { _ = channel.Close() }()
	env := map[string]string{}
	for req := range requests {
		switch req.Type {
		case "env":
			name, rest, ok1 := sshString(req.Payload)
			value, _, ok2 := sshString(rest)
			accepted := ok1 && ok2 && s.acceptEnv[name]
			if accepted {
				env[name] = value
			}
			_ = req.Reply(accepted, nil)
		case "exec":
			command, _, ok := sshString(req.Payload)
			_ = req.Reply(ok, nil)
			if !ok {
				return
			}
			s.exec(channel, command, env)
			return
		case "subsystem":
			name, _, ok := sshString(req.Payload)
			if !ok || name != "sftp" {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			server, err := sftp.NewServer(channel)
			if err != nil {
				return
			}
			_ = server.Serve()
			_ = server.Close()
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

func (s *testServer) exec(channel ssh.Channel, command string, env map[string]string) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdin strings.Builder
	cmd.Stdin = io.TeeReader(channel, &stdin)
	cmd.Stdout = channel
	cmd.Stderr = channel.Stderr()
	status := uint32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			status = uint32(exitErr.ExitCode())
		} else {
			status = 255
		}
	}
	s.mu.Lock()
	s.execs = append(s.execs, execRecord{Command: command, Env: env, Stdin: stdin.String()})
	s.mu.Unlock()
	payload := make([]byte, 4)
	binary.BigEndian.PutUint32(payload, status)
	_, _ = channel.SendRequest("exit-status", false, payload)
}
