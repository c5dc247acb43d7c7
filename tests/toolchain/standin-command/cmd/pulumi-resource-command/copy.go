// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): the SFTP copy of a
// command:remote:CopyToRemote, as upstream's remote/copyController.go does.
//
//   - the parent directories of remotePath are created first (1.2.1: "Any necessary parent directories will
//     be created automatically");
//   - a StringAsset is written to remotePath, which must not be an existing directory;
//   - a FileAsset (or a FileArchive naming a file, copied as it is, not unpacked) goes to remotePath, or into
//     it when it is an existing directory; an existing file is overwritten;
//   - a directory (a FileArchive naming one) is copied recursively into remotePath/<its name>, or its
//     contents into remotePath when the path ends in "/"; an existing file in the way is an error.
//
// Files are created with sftp's Create (the server's default mode and umask), as upstream.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
)

// copyToRemote dials the connection, opens an SFTP client and copies the source.
func copyToRemote(ctx context.Context, log *logger, in copyInputs) error {
	if in.Asset != nil && in.Asset.IsText() {
		log.debug(fmt.Sprintf("Creating file: %s from text asset", in.RemotePath))
	} else {
		log.debug(fmt.Sprintf("Creating file: %s from local file %s", in.RemotePath, in.sourcePath()))
	}
	client, err := in.Connection.dial(ctx, log)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()

	sftpClient, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return err
	}
	defer func() { _ = sftpClient.Close() }()

	if parent := path.Dir(strings.TrimSuffix(in.RemotePath, "/")); parent != "." && parent != "/" {
		if err := sftpClient.MkdirAll(parent); err != nil {
			return fmt.Errorf("failed to create remote directory %s: %w", parent, err)
		}
	}
	if in.Asset != nil && in.Asset.IsText() {
		return copyText(sftpClient, in.Asset.Text, in.RemotePath)
	}
	return sftpCopy(sftpClient, in.sourcePath(), in.RemotePath)
}

func (c *copyInputs) sourcePath() string {
	if c.Asset != nil {
		return c.Asset.Path
	}
	if c.Archive != nil {
		return c.Archive.Path
	}
	return ""
}

// remoteStat is the remote file's info, or nil (and no error) when it does not exist.
func remoteStat(client *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := client.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to stat remote path %s: %w", p, err)
	}
	return info, nil
}

func copyText(client *sftp.Client, content, dest string) error {
	info, err := remoteStat(client, dest)
	if err != nil {
		return err
	}
	if info != nil && info.IsDir() {
		return fmt.Errorf("remote path %s is a directory; when using a text asset, remotePath must be a file path", dest)
	}
	remote, err := client.Create(dest)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dest, err)
	}
	defer func() { _ = remote.Close() }()
	if _, err := remote.Write([]byte(content)); err != nil {
		return fmt.Errorf("failed to write text content to remote path %s: %w", dest, err)
	}
	return remote.Close()
}

func sftpCopy(client *sftp.Client, sourcePath, destPath string) error {
	src, err := os.Open(sourcePath)
	if err != nil {
		return err
	}
	srcInfo, err := src.Stat()
	_ = src.Close()
	if err != nil {
		return err
	}
	destInfo, err := remoteStat(client, destPath)
	if err != nil {
		return err
	}

	// source | dest exists as dir  | dest does not exist | dest exists as file
	// dir    | dest/dir            | dest/dir            | error
	// dir/   | dest/x for x in dir | dest/dir            | error
	// file   | dest/file           | dest                | dest (overwritten)
	dest := destPath
	if !srcInfo.IsDir() {
		if destInfo != nil && destInfo.IsDir() {
			dest = path.Join(dest, filepath.Base(sourcePath))
		}
		return copyFile(client, sourcePath, dest)
	}
	if destInfo == nil {
		if err := client.Mkdir(dest); err != nil {
			return fmt.Errorf("failed to create remote directory %s: %w", dest, err)
		}
	} else if !destInfo.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if !strings.HasSuffix(sourcePath, "/") {
		dest = path.Join(dest, filepath.Base(sourcePath))
		info, err := remoteStat(client, dest)
		if err != nil {
			return err
		}
		if info != nil && !info.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", dest)
		}
		if info == nil {
			if err := client.Mkdir(dest); err != nil {
				return fmt.Errorf("failed to create remote directory %s: %w", dest, err)
			}
		}
	}
	return copyDir(client, sourcePath, dest)
}

func copyFile(client *sftp.Client, src, dst string) error {
	local, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = local.Close() }()
	remote, err := client.Create(dst)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dst, err)
	}
	defer func() { _ = remote.Close() }()
	if _, err := remote.ReadFrom(local); err != nil {
		return fmt.Errorf("failed to copy file %s to remote path %s: %w", src, dst, err)
	}
	return remote.Close()
}

// copyDir copies the tree under src to dst, sequentially.
func copyDir(client *sftp.Client, src, dst string) error {
	return fs.WalkDir(os.DirFS(src), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		remotePath := path.Join(dst, filepath.ToSlash(p))
		if !d.IsDir() {
			return copyFile(client, filepath.Join(src, p), remotePath)
		}
		info, err := remoteStat(client, remotePath)
		if err != nil {
			return err
		}
		if info == nil {
			if err := client.Mkdir(remotePath); err != nil {
				return fmt.Errorf("failed to create remote directory %s: %w", remotePath, err)
			}
		} else if !info.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", remotePath)
		}
		return nil
	})
}
