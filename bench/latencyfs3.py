"""latencyfs.py on libfuse 3 (Debian's python3-pyfuse3): the same delayed passthrough with the same
counters and `/.latencyfs-stats` file, meant to run first lookups of names in one directory side
by side, as on NFS. It does not: the INIT reply pyfuse3 3.2.1 and libfuse 3.14 send the kernel
(seen with `-o debug`) lacks FUSE_PARALLEL_DIROPS, and pyfuse3 offers no way to ask for it, so
the kernel holds a directory's lock through each first lookup and each listing in it, as with
libfuse 2: 10 stats of names not yet known, side by side on a fresh mount, take 0.57 s (one
after another), once known 0.12 s. What it does bring is READDIRPLUS: a listing makes every name
known in one round trip, so lookups after a listing run side by side. Every lookup, getattr,
open, read and readdir waits `--delay-ms` as an async sleep, so requests overlap as many as the
kernel sends; only the readdir past the last name (it finds the end) is answered at once, as
libfuse 2 answers it from the listing it holds (latencyfs.py) and as an NFS client knows the end
from the eof flag of the last READDIR reply. Entry and attribute timeouts are 0 (ENTRY_TIMEOUT,
ATTR_TIMEOUT, also in the stats file): the kernel caches nothing, every access is a round trip.

Usage: latencyfs3.py SOURCE_DIR MOUNTPOINT [--delay-ms 50]
Runs in the foreground; unmounts on SIGTERM/SIGINT and when its parent process goes away.
"""
import argparse
import errno
import os
import signal
import stat as stat_module
import subprocess
import sys
import threading
import time

import pyfuse3
import trio
from latencystats import stats_text

STATS_NAME = ".latencyfs-stats"
STATS_INODE = 2**62  # never a real inode number of the source
DELAYED = ("lookup", "open", "read", "getattr", "readdir")
# Seconds the kernel may trust a name and its attributes: none (NFS's defaults trust attributes
# 3-60 s, actimeo; here every stat is a LOOKUP and a GETATTR).
ENTRY_TIMEOUT = 0
ATTR_TIMEOUT = 0


class LatencyFS3(pyfuse3.Operations):
    def __init__(self, root, delay_seconds):
        super().__init__()
        self.root = os.path.realpath(root)
        self.delay = delay_seconds
        self.paths = {pyfuse3.ROOT_INODE: "/"}  # inode -> path inside the mount
        self.fds = {}  # fh -> os fd
        self.snapshots = {}  # fh of an open stats file -> its frozen text
        self.next_fh = 1
        self.totals = {op: 0 for op in DELAYED}
        self.totals["bytes"] = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.chain = 0  # as in latencyfs.py: the longest chain of requests each sent after the last was answered
        self.files = {}
        # $LATENCYFS_LOG: one line per delayed request (start and end in ms, op, path), to see the chain.
        log = os.environ.get("LATENCYFS_LOG")
        self.log = open(log, "a", buffering=1) if log else None

    # ---- helpers ---------------------------------------------------------------------------

    def _full(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _path(self, inode):
        try:
            return self.paths[inode]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)

    async def _wait(self, op, path, nbytes=0):
        self.totals[op] += 1
        self.totals["bytes"] += nbytes
        per_file = self.files.setdefault(path, {"opens": 0, "reads": 0, "bytes": 0, "getattrs": 0, "lookups": 0})
        key = {"open": "opens", "read": "reads", "getattr": "getattrs", "lookup": "lookups"}.get(op)
        if key:
            per_file[key] += 1
        if op == "lookup":
            per_file["getattrs"] += 1  # as in latencyfs.py, where libfuse 2 serves a lookup with a getattr
        per_file["bytes"] += nbytes
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        level = self.chain + 1
        started = time.time()
        try:
            await trio.sleep(self.delay)
        finally:
            self.in_flight -= 1
            self.chain = max(self.chain, level)
            if self.log:
                self.log.write(f"{started * 1000:.1f} {time.time() * 1000:.1f} {op} {path}\n")

    def _attrs(self, path, st):
        attrs = pyfuse3.EntryAttributes()
        inode = pyfuse3.ROOT_INODE if path == "/" else st.st_ino
        self.paths[inode] = path
        attrs.st_ino = inode
        for key in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_rdev", "st_size", "st_blocks"):
            setattr(attrs, key, getattr(st, key))
        attrs.st_blksize = 4096
        attrs.st_atime_ns = st.st_atime_ns
        attrs.st_mtime_ns = st.st_mtime_ns
        attrs.st_ctime_ns = st.st_ctime_ns
        attrs.entry_timeout = ENTRY_TIMEOUT
        attrs.attr_timeout = ATTR_TIMEOUT
        return attrs

    def _stats_attrs(self):
        attrs = pyfuse3.EntryAttributes()
        attrs.st_ino = STATS_INODE
        attrs.st_mode = stat_module.S_IFREG | 0o444
        attrs.st_nlink = 1
        attrs.st_size = 0
        attrs.entry_timeout = ENTRY_TIMEOUT
        attrs.attr_timeout = ATTR_TIMEOUT
        return attrs

    def _lstat(self, path):
        try:
            return os.lstat(self._full(path))
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)

    def _stats_text(self):
        return stats_text(self, ENTRY_TIMEOUT, ATTR_TIMEOUT)

    def _child(self, parent_inode, name):
        return os.path.join(self._path(parent_inode), os.fsdecode(name))

    def _new_fh(self, fd):
        fh = self.next_fh
        self.next_fh += 1
        self.fds[fh] = fd
        return fh

    # ---- delayed operations ----------------------------------------------------------------

    async def lookup(self, parent_inode, name, ctx=None):
        if parent_inode == pyfuse3.ROOT_INODE and os.fsdecode(name) == STATS_NAME:
            return self._stats_attrs()
        path = self._child(parent_inode, name)
        await self._wait("lookup", path)
        return self._attrs(path, self._lstat(path))

    async def getattr(self, inode, ctx=None):
        if inode == STATS_INODE:
            return self._stats_attrs()
        path = self._path(inode)
        await self._wait("getattr", path)
        return self._attrs(path, self._lstat(path))

    async def opendir(self, inode, ctx):
        self._path(inode)
        return inode

    async def readdir(self, fh, start_id, token):
        path = self._path(fh)
        names = sorted(os.listdir(self._full(path)))
        # Only the request past the last name is answered at once: the end, known without a round trip (see above).
        if start_id == 0 or start_id < len(names):
            await self._wait("readdir", path)
        for index in range(start_id, len(names)):
            child = os.path.join(path, names[index])
            try:
                attrs = self._attrs(child, os.lstat(self._full(child)))
            except OSError:
                continue
            if not pyfuse3.readdir_reply(token, os.fsencode(names[index]), attrs, index + 1):
                break

    async def releasedir(self, fh):
        pass

    async def open(self, inode, flags, ctx):
        if inode == STATS_INODE:
            fh = self._new_fh(os.open(os.devnull, os.O_RDONLY))
            self.snapshots[fh] = self._stats_text()
            return pyfuse3.FileInfo(fh=fh, direct_io=True)
        path = self._path(inode)
        await self._wait("open", path)
        try:
            fd = os.open(self._full(path), flags & ~os.O_CREAT)
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        return pyfuse3.FileInfo(fh=self._new_fh(fd), direct_io=True)

    async def read(self, fh, offset, size):
        snapshot = self.snapshots.get(fh)
        if snapshot is not None:
            return snapshot[offset : offset + size]
        data = os.pread(self.fds[fh], size, offset)
        await self._wait("read", self._fh_path(fh), len(data))
        return data

    def _fh_path(self, fh):
        try:
            return "/" + os.path.relpath(os.readlink(f"/proc/self/fd/{self.fds[fh]}"), self.root)
        except OSError:
            return "?"

    # ---- undelayed operations (the builders write one manifest each) -----------------------

    async def create(self, parent_inode, name, mode, flags, ctx):
        path = self._child(parent_inode, name)
        try:
            fd = os.open(self._full(path), flags | os.O_CREAT, mode)
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        return pyfuse3.FileInfo(fh=self._new_fh(fd), direct_io=True), self._attrs(path, os.fstat(fd))

    async def write(self, fh, offset, buf):
        return os.pwrite(self.fds[fh], buf, offset)

    async def setattr(self, inode, attr, fields, fh, ctx):
        path = self._path(inode)
        full = self._full(path)
        try:
            if fields.update_size:
                if fh is not None:
                    os.ftruncate(self.fds[fh], attr.st_size)
                else:
                    os.truncate(full, attr.st_size)
            if fields.update_mode:
                os.chmod(full, stat_module.S_IMODE(attr.st_mode))
            if fields.update_uid or fields.update_gid:
                os.lchown(full, attr.st_uid if fields.update_uid else -1, attr.st_gid if fields.update_gid else -1)
            if fields.update_atime or fields.update_mtime:
                st = os.lstat(full)
                os.utime(
                    full,
                    ns=(
                        attr.st_atime_ns if fields.update_atime else st.st_atime_ns,
                        attr.st_mtime_ns if fields.update_mtime else st.st_mtime_ns,
                    ),
                    follow_symlinks=False,
                )
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        return self._attrs(path, self._lstat(path))

    async def flush(self, fh):
        pass

    async def fsync(self, fh, datasync):
        if fh not in self.snapshots:
            os.fsync(self.fds[fh])

    async def release(self, fh):
        self.snapshots.pop(fh, None)
        os.close(self.fds.pop(fh))

    async def unlink(self, parent_inode, name, ctx):
        try:
            os.unlink(self._full(self._child(parent_inode, name)))
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)

    async def rename(self, parent_old, name_old, parent_new, name_new, flags, ctx):
        old, new = self._child(parent_old, name_old), self._child(parent_new, name_new)
        try:
            os.rename(self._full(old), self._full(new))
            self.paths[os.lstat(self._full(new)).st_ino] = new
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)

    async def readlink(self, inode, ctx):
        try:
            return os.fsencode(os.readlink(self._full(self._path(inode))))
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)

    async def forget(self, inode_list):
        pass

    async def statfs(self, ctx):
        st = os.statvfs(self.root)
        out = pyfuse3.StatvfsData()
        for key in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_frsize", "f_namemax"):
            setattr(out, key, getattr(st, key))
        return out


def unmount_when_orphaned(mountpoint, parent):
    """If whoever started us dies without unmounting, unmount ourselves (main() then returns)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    subprocess.run(["fusermount3", "-u", "-z", mountpoint], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("mountpoint")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    threading.Thread(target=unmount_when_orphaned, args=(args.mountpoint, os.getppid()), daemon=True).start()
    fs = LatencyFS3(args.source, args.delay_ms / 1000)
    options = set(pyfuse3.default_options)
    options.add("fsname=latencyfs3")
    options.discard("default_permissions")
    pyfuse3.init(fs, args.mountpoint, options)
    # SIGTERM/SIGINT: unmount (the kernel then ends the session and main() returns).
    stop = lambda *_: subprocess.run(["fusermount3", "-u", "-z", args.mountpoint], check=False)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        trio.run(pyfuse3.main)
    finally:
        pyfuse3.close(unmount=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
