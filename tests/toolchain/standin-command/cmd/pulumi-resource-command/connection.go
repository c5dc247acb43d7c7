// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): the SSH connection of
// remote.Connection, dialed as upstream's remote/connection.go does.
//
//   - auth methods in upstream's order: the private key (with its passphrase if given), then the password
//     (also answering keyboard-interactive prompts), then an SSH agent (agentSocketPath, else $SSH_AUTH_SOCK);
//   - perDialTimeout seconds for each TCP dial (0: no limit);
//   - every failed dial is retried with the SDK's retry.Until backoff (100 ms, x1.5, at most 5 s) until
//     dialErrorLimit failures have been retried (-1: no limit), reporting "Dial n/limit failed: retrying";
//   - with a proxy: dial the proxy, then the host from the proxy, then SSH over that connection;
//   - hostKey (authorized_keys format, as ssh-keyscan prints it without the host name): the server must
//     present exactly that key, any other is refused; without it any host key is accepted, as upstream.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const (
	sshAgentSocketEnvVar = "SSH_AUTH_SOCK"
	dialErrorUnlimited   = -1
)

func (c *connection) user() string {
	if c.User == nil {
		return defaultUser
	}
	return *c.User
}

func (c *connection) port() int {
	if c.Port == nil {
		return defaultPort
	}
	return int(*c.Port)
}

func (c *connection) dialErrorLimit() int {
	if c.DialErrorLimit == nil {
		return defaultDialErrorLimit
	}
	return *c.DialErrorLimit
}

func (c *connection) perDialTimeout() time.Duration {
	if c.PerDialTimeout == nil {
		return defaultPerDialTimeout * time.Second
	}
	return time.Duration(*c.PerDialTimeout) * time.Second
}

func (c *connection) endpoint() string {
	host := ""
	if c.Host != nil {
		host = *c.Host
	}
	return net.JoinHostPort(host, fmt.Sprintf("%d", c.port()))
}

// hostKeyCallback pins the host key when one is given. The client is also told to ask only for host keys of
// the pinned key's type: a server with several host keys (Debian's has three) would otherwise negotiate
// whichever type comes first in x/crypto's preference, and a correct pin of another type would be refused.
func (c *connection) hostKeyCallback() (ssh.HostKeyCallback, []string, error) {
	if c.HostKey == nil || *c.HostKey == "" {
		return ssh.InsecureIgnoreHostKey(), nil, nil //nolint:gosec // upstream's behaviour without hostKey
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse host key: %w", err)
	}
	algorithms := []string{key.Type()}
	if key.Type() == ssh.KeyAlgoRSA {
		algorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return ssh.FixedHostKey(key), algorithms, nil
}

// sshConfig is the client configuration of one hop.
func (c *connection) sshConfig() (*ssh.ClientConfig, error) {
	callback, algorithms, err := c.hostKeyCallback()
	if err != nil {
		return nil, err
	}
	config := &ssh.ClientConfig{
		User:              c.user(),
		HostKeyCallback:   callback,
		HostKeyAlgorithms: algorithms,
		Timeout:           c.perDialTimeout(),
	}
	if c.PrivateKey != nil {
		var signer ssh.Signer
		if c.PrivateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*c.PrivateKey))
		}
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		password := *c.Password
		config.Auth = append(config.Auth, ssh.Password(password))
		config.Auth = append(config.Auth, ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					answers[i] = password
				}
				return answers, nil
			}))
	}
	socket := c.AgentSocketPath
	if env := os.Getenv(sshAgentSocketEnvVar); socket == nil && env != "" {
		socket = &env
	}
	if socket != nil {
		conn, err := net.Dial("unix", *socket)
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return config, nil
}

func reachedDialingErrorLimit(dials, limit int) bool {
	return limit > dialErrorUnlimited && dials > limit
}

// dialWithRetry calls f until it succeeds, the limit of failures is reached, or ctx ends.
func dialWithRetry[T any](ctx context.Context, log *logger, msg string, limit int, f func() (T, error)) (T, error) {
	var zero T
	ok, data, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			result, err := f()
			if err == nil {
				return true, result, nil
			}
			dials := try + 1
			if reachedDialingErrorLimit(dials, limit) {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, err)
			}
			limitText := "inf"
			if limit != dialErrorUnlimited {
				limitText = fmt.Sprintf("%d", limit)
			}
			log.infoStatus(fmt.Sprintf("%s %d/%s failed: retrying", msg, dials, limitText))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return data.(T), nil
	}
	if err == nil {
		// retry.Until gives up without an error when ctx ends (a timeout or a cancellation).
		err = ctx.Err()
	}
	return zero, err
}

// dial connects to the host of c, through its proxy if it has one.
func (c *connection) dial(ctx context.Context, log *logger) (*ssh.Client, error) {
	config, err := c.sshConfig()
	if err != nil {
		return nil, err
	}
	endpoint := c.endpoint()
	tries := c.dialErrorLimit()
	if c.Proxy == nil {
		return dialWithRetry(ctx, log, "Dial", tries, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", endpoint, config)
		})
	}

	proxyConfig, err := c.Proxy.sshConfig()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	proxyClient, err := dialWithRetry(ctx, log, "Dial proxy", c.Proxy.dialErrorLimit(), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", c.Proxy.endpoint(), proxyConfig)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	conn, err := dialWithRetry(ctx, log, "Dial from proxy", tries, func() (net.Conn, error) {
		return proxyClient.Dial("tcp", endpoint)
	})
	if err != nil {
		_ = proxyClient.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	var channels <-chan ssh.NewChannel
	var requests <-chan *ssh.Request
	clientConn, err := dialWithRetry(ctx, log, "Dial", tries, func() (ssh.Conn, error) {
		cc, ch, rq, err := ssh.NewClientConn(conn, endpoint, config)
		channels, requests = ch, rq
		return cc, err
	})
	if err != nil {
		_ = proxyClient.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return ssh.NewClient(clientConn, channels, requests), nil
}
