//go:build unix

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// looseGroup: a group-readable token file is worth a warning when it is the
// user's own file (a workstation's chmod 640), not when another owner (the
// kubelet, root) made it readable to the group this process runs in.
func looseGroup(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid()
}
