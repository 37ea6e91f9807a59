//! Unpacked code: a function's zip (and its layers, merged in order) extracted once per content
//! digest into `DIR/code/<digest>` / `DIR/layers/<digest-of-digests>`, shared read-only by every
//! environment of every version that uses the same bytes. Extraction goes to a temporary directory
//! renamed into place, so a crash never leaves a half-extracted tree behind a valid name.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ignis_store::ArtifactStore;

use crate::InvokeError;

/// Cache of unpacked artifacts on the worker's disk.
#[derive(Debug, Clone)]
pub struct CodeCache {
    dir: PathBuf,
    artifacts: ArtifactStore,
}

impl CodeCache {
    /// A cache under `dir` reading archives from `artifacts`.
    pub fn new(dir: &Path, artifacts: ArtifactStore) -> Result<Self, InvokeError> {
        std::fs::create_dir_all(dir.join("code"))
            .map_err(InvokeError::io("creating code cache"))?;
        std::fs::create_dir_all(dir.join("layers"))
            .map_err(InvokeError::io("creating layer cache"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            artifacts,
        })
    }

    /// The unpacked tree of the archive with hex digest `digest`.
    pub async fn code_dir(&self, digest: &str) -> Result<PathBuf, InvokeError> {
        let target = self.dir.join("code").join(digest);
        if target.is_dir() {
            return Ok(target);
        }
        let zip = self.fetch(digest).await?;
        let t = target.clone();
        tokio::task::spawn_blocking(move || extract_into(&[zip], &t))
            .await
            .map_err(|_| InvokeError::Internal("extraction task failed".into()))??;
        Ok(target)
    }

    /// The merged tree of several layer archives (later layers overwrite earlier files, as AWS).
    pub async fn layers_dir(&self, digests: &[String]) -> Result<Option<PathBuf>, InvokeError> {
        if digests.is_empty() {
            return Ok(None);
        }
        let key = ignis_crypto::sha256_hex(digests.join(",").as_bytes());
        let target = self.dir.join("layers").join(key);
        if target.is_dir() {
            return Ok(Some(target));
        }
        let mut zips = Vec::with_capacity(digests.len());
        for d in digests {
            zips.push(self.fetch(d).await?);
        }
        let t = target.clone();
        tokio::task::spawn_blocking(move || extract_into(&zips, &t))
            .await
            .map_err(|_| InvokeError::Internal("extraction task failed".into()))??;
        Ok(Some(target))
    }

    async fn fetch(&self, digest: &str) -> Result<Vec<u8>, InvokeError> {
        self.artifacts
            .get(digest)
            .await
            .map_err(|e| InvokeError::Internal(format!("reading artifact {digest}: {e}")))?
            .ok_or_else(|| InvokeError::Internal(format!("artifact {digest} is missing")))
    }
}

/// Extract `zips` in order into a fresh temporary directory, then rename it to `target`.
fn extract_into(zips: &[Vec<u8>], target: &Path) -> Result<(), InvokeError> {
    let parent = target.parent().unwrap_or(Path::new("/"));
    let tmp = parent.join(format!(
        ".tmp-{}",
        ignis_crypto::ids::uuid_v4().map_err(|_| InvokeError::Internal("random".into()))?
    ));
    std::fs::create_dir_all(&tmp).map_err(InvokeError::io("creating extraction dir"))?;
    let result = (|| {
        for zip in zips {
            let mut archive = zip::ZipArchive::new(Cursor::new(zip))
                .map_err(|e| InvokeError::Internal(format!("reading zip: {e}")))?;
            archive
                .extract(&tmp)
                .map_err(|e| InvokeError::Internal(format!("extracting zip: {e}")))?;
        }
        make_readable(&tmp)?;
        match std::fs::rename(&tmp, target) {
            Ok(()) => Ok(()),
            // Another invoke extracted the same digest first: theirs is identical.
            Err(_) if target.is_dir() => {
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(())
            }
            Err(e) => Err(InvokeError::io("publishing extracted code")(e)),
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// The unprivileged runtime user must be able to read every file and enter every directory.
fn make_readable(dir: &Path) -> Result<(), InvokeError> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = std::fs::symlink_metadata(&d).map_err(InvokeError::io("stat"))?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        if meta.is_dir() {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode((mode | 0o555) & 0o755))
                .map_err(InvokeError::io("chmod"))?;
            for entry in std::fs::read_dir(&d).map_err(InvokeError::io("read_dir"))? {
                stack.push(entry.map_err(InvokeError::io("read_dir"))?.path());
            }
        } else {
            let exec = if mode & 0o111 != 0 { 0o555 } else { 0o444 };
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(exec))
                .map_err(InvokeError::io("chmod"))?;
        }
    }
    Ok(())
}
