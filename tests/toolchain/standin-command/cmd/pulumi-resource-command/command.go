// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): running one command of a
// command:remote:Command over SSH, as upstream's remote/commandOutputs.go does.
//
//   - one SSH session; each `environment` entry is sent with Setenv, and a refused one (the server's AcceptEnv
//     does not list it) fails the step with an error diagnostic;
//   - unless addPreviousOutputInEnv is false, the previous stdout and stderr (when not empty) are sent as
//     PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR; a refusal of those is only a warning;
//   - stdin (when not empty) is the session's standard input;
//   - the command runs with session.Run (the server's shell runs it); its output lines are status messages
//     unless `logging` leaves that stream out;
//   - a failure is "<ssh error, e.g. Process exited with status 3>: running \"<command>\":\n<stdout and stderr
//     interleaved>", whatever `logging` says, as upstream;
//   - on success stdout and stderr are kept with one trailing newline removed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

const (
	envPreviousStdout = "PULUMI_COMMAND_STDOUT"
	envPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// lockedBuffer is a buffer the session's stdout and stderr copiers may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func shouldLogStdout(logging *string) bool {
	return logging == nil || *logging == logStdout || *logging == logStdoutAndStderr
}

func shouldLogStderr(logging *string) bool {
	return logging == nil || *logging == logStderr || *logging == logStdoutAndStderr
}

func setenvError(log *logger, key string, err error, fatal bool) error {
	msg := fmt.Sprintf(`Unable to set '%s'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`, key)
	if fatal {
		log.error(msg)
	} else {
		log.warning(msg)
	}
	return fmt.Errorf("could not set environment variable %q: %w", key, err)
}

// logLines sends each line read from r as a status message; it drains r to the end even past long lines.
func logLines(log *logger, r io.Reader, done chan<- struct{}) {
	defer close(done)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			log.infoStatus(line)
		}
		if err != nil {
			_, _ = io.Copy(io.Discard, br)
			return
		}
	}
}

// runCommand runs cmd with the inputs of s and, on success, stores its stdout and stderr in s.
func runCommand(ctx context.Context, log *logger, s *commandState, cmd string) error {
	client, err := s.Connection.dial(ctx, log)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()

	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer func() { _ = session.Close() }()

	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := session.Setenv(k, s.Environment[k]); err != nil {
			return setenvError(log, k, err, true)
		}
	}
	if s.AddPreviousOutputInEnv == nil || *s.AddPreviousOutputInEnv {
		if s.Stdout != "" {
			if err := session.Setenv(envPreviousStdout, s.Stdout); err != nil {
				_ = setenvError(log, envPreviousStdout, err, false)
			}
		}
		if s.Stderr != "" {
			if err := session.Setenv(envPreviousStderr, s.Stderr); err != nil {
				_ = setenvError(log, envPreviousStderr, err, false)
			}
		}
	}
	if s.Stdin != nil && len(*s.Stdin) > 0 {
		session.Stdin = strings.NewReader(*s.Stdin)
	}

	var stdout, stderr, combined lockedBuffer
	r, w := io.Pipe()
	stdoutWriters := []io.Writer{&stdout, &combined}
	if shouldLogStdout(s.Logging) {
		stdoutWriters = append(stdoutWriters, w)
	}
	stderrWriters := []io.Writer{&stderr, &combined}
	if shouldLogStderr(s.Logging) {
		stderrWriters = append(stderrWriters, w)
	}
	session.Stdout = io.MultiWriter(stdoutWriters...)
	session.Stderr = io.MultiWriter(stderrWriters...)

	done := make(chan struct{})
	go logLines(log, r, done)
	err = session.Run(cmd)
	_ = w.Close()
	<-done

	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, cmd, combined.String())
	}
	s.Stdout = strings.TrimSuffix(stdout.String(), "\n")
	s.Stderr = strings.TrimSuffix(stderr.String(), "\n")
	return nil
}
