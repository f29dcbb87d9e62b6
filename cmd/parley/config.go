package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// config is the saved session. The token is a bearer credential, so the
// file is private (0600 in a 0700 directory) and replaced atomically: a
// crash mid-write never leaves a truncated file or a world-readable copy.
type config struct {
	Server string `json:"server"`
	CAFile string `json:"ca_file,omitempty"`
	Token  string `json:"token,omitempty"`
}

const maxConfigBytes = 1 << 20

// configPath picks the config file: --config, then PARLEY_CONFIG, then
// $XDG_CONFIG_HOME/parley/config.json, then ~/.config/parley/config.json.
func configPath(flagValue string, getenv func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p := getenv("PARLEY_CONFIG"); p != "" {
		return p, nil
	}
	return defaultConfigPath(getenv)
}

// defaultConfigPath is the XDG location. Its directory belongs to parley,
// so saveConfig also tightens an existing one to 0700.
func defaultConfigPath(getenv func(string) string) (string, error) {
	// The XDG spec says relative values are invalid and must be ignored.
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "parley", "config.json"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot find the config directory (set HOME, XDG_CONFIG_HOME or PARLEY_CONFIG): %w", err)
		}
	}
	return filepath.Join(home, ".config", "parley", "config.json"), nil
}

// loadConfig reads the config; a missing file is an empty config. A file
// that others can read is used but warned about: the token may have leaked.
func loadConfig(path string, warn io.Writer) (*config, error) {
	f, err := os.Open(path) // #nosec G304 -- the user's own CLI config file (--config, PARLEY_CONFIG or the XDG default)
	if errors.Is(err, fs.ErrNotExist) {
		return &config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(warn, "parley: warning: %s is accessible by other users (mode %v); run 'chmod 600 %s' and consider 'parley login' again\n",
			path, st.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config file %s is too large", path)
	}
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("config file %s is not valid JSON: %w", path, err)
	}
	return &c, nil
}

// saveConfig writes c to path atomically: a private temporary file in the
// same directory, synced, then renamed over the old one. privateDir says
// that the directory is parley's own (the default location) and may be
// tightened to 0700 if it exists with a looser mode; a directory chosen
// with --config or PARLEY_CONFIG may be shared (say /tmp) and is left alone.
func saveConfig(path string, c *config, privateDir bool) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating config directory: %w", err)
	}
	if privateDir {
		if err := os.Chmod(dir, 0o700); err != nil { // #nosec G302 -- a directory needs x to be entered; 0700 is owner-only
			return fmt.Errorf("securing config directory: %w", err)
		}
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	// CreateTemp makes the file 0600 from the start, so the token is never
	// readable by others, not even briefly.
	f, err := os.CreateTemp(dir, ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	// Make the rename durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil { // #nosec G304 -- the config file's own directory, opened only to fsync the rename
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// save writes cfg to path (as returned by configFile).
func (e *env) save(path string, cfg *config) error {
	def, err := defaultConfigPath(e.getenv)
	return saveConfig(path, cfg, err == nil && filepath.Clean(path) == filepath.Clean(def))
}

// configFile resolves the path and loads it, for commands that change it.
func (e *env) configFile() (string, *config, error) {
	path, err := configPath(e.configFlag, e.getenv)
	if err != nil {
		return "", nil, err
	}
	cfg, err := loadConfig(path, e.stderr)
	return path, cfg, err
}
