//! One writer at a time: before its first write, a fix locks every node of the cluster it is
//! about to change, so that a second slotscope on the same host (another terminal, the CLI next
//! to the dashboard, two `fix --apply` started together) sees the repair under way and refuses
//! to write instead of racing it.
//!
//! The lock is an advisory file lock (`flock`) per node id, in a directory shared by every
//! user of the host (`$TMPDIR/slotscope-locks`). Locking every node id of the model, not a
//! name made from the seeds, makes two runs collide whatever seeds they were given: two views
//! of one cluster always share a node. The lock file records who holds it (pid, user, plan,
//! time), so the refusal can say who is writing. The operating system releases the lock when
//! the process ends, however it ends, so a crash never leaves a stale lock behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::cluster::types::NodeId;

/// Name of the lock directory inside the temporary directory.
pub const LOCK_DIR: &str = "slotscope-locks";

/// The locks a running fix holds. Dropping it releases them.
#[derive(Debug)]
pub struct FixLock {
    _files: Vec<File>,
}

/// Why the locks could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock of this node; `holder` is what it wrote (pid, plan...).
    #[error(
        "another slotscope is repairing this cluster ({holder}; it holds node {}); \
         wait until it finishes, then look again",
        node.short()
    )]
    Held { node: NodeId, holder: String },
    /// The lock file could not be created or locked.
    #[error("the fix lock could not be taken: {0}")]
    Io(io::Error),
}

/// The default directory for lock files.
#[must_use]
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join(LOCK_DIR)
}

impl FixLock {
    /// Lock every node in `nodes` (in sorted order) under `dir`, recording `holder` in each
    /// file. Either every lock is taken, or none is kept and the first holder found is named.
    ///
    /// # Errors
    /// [`LockError::Held`] when another process holds one of the locks; [`LockError::Io`] when
    /// a lock file cannot be created.
    pub fn acquire<'a>(
        dir: &Path,
        nodes: impl IntoIterator<Item = &'a NodeId>,
        holder: &str,
    ) -> Result<Self, LockError> {
        create_shared_dir(dir).map_err(LockError::Io)?;
        let mut ids: Vec<&NodeId> = nodes.into_iter().collect();
        ids.sort();
        ids.dedup();
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            let path = dir.join(format!("{}.lock", file_stem(id)));
            let mut file = open_shared(&path).map_err(LockError::Io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    let holder = match text.trim() {
                        "" => "holder unknown".to_owned(),
                        t => t.to_owned(),
                    };
                    return Err(LockError::Held {
                        node: id.clone(),
                        holder,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
            // Locked: say who holds it (readers do not lock, so they see this text).
            file.set_len(0).map_err(LockError::Io)?;
            file.rewind().map_err(LockError::Io)?;
            file.write_all(holder.as_bytes()).map_err(LockError::Io)?;
            file.flush().map_err(LockError::Io)?;
            files.push(file);
        }
        Ok(Self { _files: files })
    }
}

/// A node id as a file name: hex ids pass through; anything else keeps only safe characters.
fn file_stem(id: &NodeId) -> String {
    id.as_str()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(64)
        .collect()
}

fn create_shared_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    // Every user of the host must be able to create and lock files here (sticky, like /tmp).
    set_mode(dir, 0o1777);
    Ok(())
}

fn open_shared(path: &Path) -> io::Result<File> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    if !existed {
        set_mode(path, 0o666);
    }
    Ok(file)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: the lock still works for this user if the mode cannot be changed.
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<NodeId> {
        names.iter().map(|n| NodeId::from(*n)).collect()
    }

    #[test]
    fn a_second_holder_is_refused_and_named_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let a = ids(&["aaaa", "bbbb"]);
        let first = FixLock::acquire(dir.path(), &a, "pid 1, plan p1").unwrap();
        // A second run over an overlapping set of nodes (another seed of the same cluster).
        let b = ids(&["bbbb", "cccc"]);
        match FixLock::acquire(dir.path(), &b, "pid 2, plan p2") {
            Err(LockError::Held { node, holder }) => {
                assert_eq!(node.as_str(), "bbbb");
                assert_eq!(holder, "pid 1, plan p1");
            }
            other => panic!("expected Held, got {other:?}"),
        }
        // A disjoint cluster is not blocked.
        FixLock::acquire(dir.path(), &ids(&["dddd"]), "pid 3").unwrap();
        drop(first);
        FixLock::acquire(dir.path(), &b, "pid 2, plan p2").unwrap();
    }

    #[test]
    fn odd_ids_make_safe_file_names() {
        assert_eq!(file_stem(&NodeId::from("../../etc/x")), "______etc_x");
    }
}
