package main

import (
	"log/slog"

	"github.com/coreos/go-systemd/v22/daemon"
)

// sdNotify tells systemd (a Type=notify service, $NOTIFY_SOCKET) the state
// of the mount; without $NOTIFY_SOCKET it does nothing. A failure to tell
// is logged, never fatal: the mount works without systemd.
func sdNotify(state string) {
	sent, err := daemon.SdNotify(false, state)
	switch {
	case err != nil:
		slog.Warn("systemd notify", "state", state, "err", err)
	case sent:
		slog.Debug("systemd notified", "state", state)
	}
}
