"""A FUSE passthrough that makes a local directory behave like network storage: every open,
read, getattr (stat, and the kernel's lookups) and readdir waits `--delay-ms` before it is
served. Mounted with direct_io and zero attribute/entry timeouts so the kernel's caches do not
hide the latency, and multi-threaded so concurrent requests overlap as they would on a network
volume. It counts requests and bytes per file; the counters are the JSON text of the virtual
file `/.latencyfs-stats` (served at once, not counted, hidden from listings).

Usage: latencyfs.py SOURCE_DIR MOUNTPOINT [--delay-ms 50]
Runs in the foreground; unmounts on SIGTERM/SIGINT and when its parent process goes away.
"""
import argparse
import errno
import os
import subprocess
import sys
import threading
import time

from latencystats import stats_text

try:
    from fusepy import FUSE, FuseOSError, Operations  # Debian's python3-fusepy
except ImportError:  # pip's fusepy installs as `fuse`
    from fuse import FUSE, FuseOSError, Operations

STATS_NAME = ".latencyfs-stats"
DELAYED = ("open", "read", "getattr", "readdir")
# Seconds the kernel may trust a name, a missing name and attributes: none (NFS's defaults trust
# attributes 3-60 s, actimeo; here every stat is a lookup and a getattr, both round trips).
ENTRY_TIMEOUT = 0
ATTR_TIMEOUT = 0


class LatencyFS(Operations):
    use_ns = True

    def __init__(self, root, delay_seconds):
        self.root = os.path.realpath(root)
        self.delay = delay_seconds
        self.mutex = threading.Lock()  # not `lock`: that name is a FUSE operation
        self.totals = {op: 0 for op in DELAYED}
        self.totals["bytes"] = 0
        self.in_flight = 0
        self.max_in_flight = 0
        # The longest chain of delayed requests each sent after the one before it was answered:
        # serial round trips, however long the client's CPU work between them took.
        self.chain = 0
        self.files = {}  # path -> {"opens", "reads", "bytes", "getattrs"}
        self.snapshots = {}  # fh of an open stats file -> its frozen text

    def _full(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _wait(self, op, path, nbytes=0):
        with self.mutex:
            self.totals[op] += 1
            self.totals["bytes"] += nbytes
            per_file = self.files.setdefault(path, {"opens": 0, "reads": 0, "bytes": 0, "getattrs": 0})
            key = {"open": "opens", "read": "reads", "getattr": "getattrs"}.get(op)
            if key:
                per_file[key] += 1
            per_file["bytes"] += nbytes
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            level = self.chain + 1
        try:
            time.sleep(self.delay)
        finally:
            with self.mutex:
                self.in_flight -= 1
                self.chain = max(self.chain, level)

    def _stats_text(self):
        with self.mutex:
            return stats_text(self, ENTRY_TIMEOUT, ATTR_TIMEOUT)

    # ---- delayed operations ----------------------------------------------------------------

    def getattr(self, path, fh=None):
        if path == "/" + STATS_NAME:
            return {"st_mode": 0o100444, "st_nlink": 1, "st_size": 0}
        self._wait("getattr", path)
        try:
            st = os.fstat(fh) if fh is not None else os.lstat(self._full(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        attrs = {key: getattr(st, key) for key in ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_ino", "st_blocks")}
        for key in ("st_atime", "st_mtime", "st_ctime"):
            attrs[key] = getattr(st, key + "_ns")
        return attrs

    def readdir(self, path, fh):
        self._wait("readdir", path)
        return [".", ".."] + sorted(os.listdir(self._full(path)))

    def open(self, path, flags):
        if path == "/" + STATS_NAME:
            fh = os.open(os.devnull, os.O_RDONLY)
            self.snapshots[fh] = self._stats_text()
            return fh
        self._wait("open", path)
        return os.open(self._full(path), flags)

    def read(self, path, size, offset, fh):
        snapshot = self.snapshots.get(fh)
        if snapshot is not None:
            return snapshot[offset:offset + size]
        data = os.pread(fh, size, offset)
        self._wait("read", path, len(data))
        return data

    # ---- undelayed operations (the builders write one manifest each) -----------------------

    def release(self, path, fh):
        self.snapshots.pop(fh, None)
        os.close(fh)

    def create(self, path, mode, fi=None):
        return os.open(self._full(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._full(path), length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(fh)

    def unlink(self, path):
        os.unlink(self._full(path))

    def rename(self, old, new):
        os.rename(self._full(old), self._full(new))

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def utimens(self, path, times=None):
        os.utime(self._full(path), ns=times)

    def access(self, path, amode):
        if path != "/" + STATS_NAME and not os.access(self._full(path), amode):
            raise FuseOSError(errno.EACCES)

    def statfs(self, path):
        st = os.statvfs(self.root)
        return {key: getattr(st, key) for key in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}


def unmount_when_orphaned(mountpoint, parent):
    """If whoever started us dies without unmounting, unmount ourselves (FUSE() then returns)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    subprocess.run(["fusermount", "-u", "-z", mountpoint], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("mountpoint")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    threading.Thread(target=unmount_when_orphaned, args=(args.mountpoint, os.getppid()), daemon=True).start()
    FUSE(
        LatencyFS(args.source, args.delay_ms / 1000),
        args.mountpoint,
        foreground=True,
        nothreads=False,
        direct_io=True,
        attr_timeout=ATTR_TIMEOUT,
        entry_timeout=ENTRY_TIMEOUT,
        negative_timeout=ENTRY_TIMEOUT,
        fsname="latencyfs",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
