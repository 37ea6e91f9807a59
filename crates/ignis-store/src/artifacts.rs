//! Artifact store: deployment packages and layer archives, envelope-encrypted (a fresh AES-256-GCM
//! data key per blob, wrapped by the root key, bound to the blob's digest) and stored once per SHA-256
//! under `DIR/ab/abcdef…`. Writes go to a temporary file, are fsynced, then renamed into place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignis_crypto::{open_envelope, seal_envelope, RootKey};

use crate::{StoreError, StoreResult};

/// Local-directory artifact store.
#[derive(Clone, Debug)]
pub struct ArtifactStore {
    dir: PathBuf,
    root: Arc<RootKey>,
}

fn valid_digest(hex_digest: &str) -> bool {
    hex_digest.len() == 64
        && hex_digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ArtifactStore {
    /// A store rooted at `dir` (created if missing).
    pub fn open(dir: &Path, root: Arc<RootKey>) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            root,
        })
    }

    fn path(&self, hex_digest: &str) -> StoreResult<PathBuf> {
        if !valid_digest(hex_digest) {
            return Err(StoreError::Corrupt(format!("bad digest {hex_digest:?}")));
        }
        Ok(self.dir.join(&hex_digest[..2]).join(hex_digest))
    }

    /// Store `data` (whose SHA-256 hex is `hex_digest`) unless it is already present.
    pub async fn put(&self, hex_digest: &str, data: &[u8]) -> StoreResult<()> {
        let path = self.path(hex_digest)?;
        if tokio::fs::try_exists(&path).await? {
            return Ok(());
        }
        let sealed = seal_envelope(&self.root, data, hex_digest.as_bytes())?;
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let tmp = parent.join(format!(
            ".{hex_digest}.{}.tmp",
            ignis_crypto::ids::uuid_v4()?
        ));
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            std::fs::create_dir_all(&parent)?;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&sealed)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(&parent)?.sync_all()
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// Read and decrypt the blob with digest `hex_digest`; `None` if absent. The plaintext's digest is
    /// checked against the name, so a swapped or corrupted file is an error, never wrong code.
    pub async fn get(&self, hex_digest: &str) -> StoreResult<Option<Vec<u8>>> {
        let path = self.path(hex_digest)?;
        let sealed = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let plain = open_envelope(&self.root, &sealed, hex_digest.as_bytes())?;
        if ignis_crypto::sha256_hex(&plain) != hex_digest {
            return Err(StoreError::Corrupt(format!(
                "artifact {hex_digest} digest mismatch"
            )));
        }
        Ok(Some(plain))
    }

    /// Remove the blob (used when nothing references it any more).
    pub async fn delete(&self, hex_digest: &str) -> StoreResult<()> {
        match tokio::fs::remove_file(self.path(hex_digest)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_is_encrypted_and_verified() {
        let dir = std::env::temp_dir().join(format!("ignis-art-{}", std::process::id()));
        let store = ArtifactStore::open(&dir, Arc::new(RootKey::generate().unwrap())).unwrap();
        let data = b"PK\x03\x04 hello hello hello hello".to_vec();
        let digest = ignis_crypto::sha256_hex(&data);
        store.put(&digest, &data).await.unwrap();
        store.put(&digest, &data).await.unwrap();
        let raw = std::fs::read(dir.join(&digest[..2]).join(&digest)).unwrap();
        assert!(!raw.windows(11).any(|w| w == b"hello hello"));
        assert_eq!(store.get(&digest).await.unwrap().unwrap(), data);
        assert!(store.get(&"0".repeat(64)).await.unwrap().is_none());
        assert!(store.get("../../etc/passwd").await.is_err());
        store.delete(&digest).await.unwrap();
        assert!(store.get(&digest).await.unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
