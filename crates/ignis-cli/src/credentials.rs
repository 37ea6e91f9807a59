//! Admin credentials: created on first start and written to `DATA_DIR/credentials` (AWS shared
//! credentials INI, mode 0600), or taken from `IGNIS_ACCESS_KEY_ID`/`IGNIS_SECRET_ACCESS_KEY`. The
//! secret is stored in the database sealed under the root key, never in plaintext.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use ignis_store::MetaStore;

/// Parse `[default]` aws_access_key_id / aws_secret_access_key from an INI file.
fn parse_ini(text: &str) -> Option<(String, String)> {
    let mut in_default = false;
    let (mut id, mut secret) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_default = line == "[default]";
        } else if in_default {
            if let Some((k, v)) = line.split_once('=') {
                match k.trim() {
                    "aws_access_key_id" => id = Some(v.trim().to_string()),
                    "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
    }
    Some((id?, secret?))
}

fn write_file(path: &Path, id: &str, secret: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    write!(
        f,
        "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    )?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Make sure the admin key exists in the store and, unless given by the environment, in the file.
pub async fn ensure_admin(
    meta: &MetaStore,
    data_dir: &Path,
    principal: &str,
) -> anyhow::Result<()> {
    let path = data_dir.join("credentials");
    let from_env = match (
        std::env::var("IGNIS_ACCESS_KEY_ID"),
        std::env::var("IGNIS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        _ => None,
    };
    if let Some((id, secret)) = from_env {
        meta.put_credential(&id, &secret, principal).await?;
        tracing::info!(access_key_id = %id, "admin credentials taken from the environment");
        return Ok(());
    }
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Some((id, secret)) = parse_ini(&text) {
            meta.put_credential(&id, &secret, principal).await?;
            tracing::info!(file = %path.display(), access_key_id = %id, "admin credentials loaded");
            return Ok(());
        }
    }
    let id = ignis_crypto::ids::access_key_id()?;
    let secret = ignis_crypto::ids::secret_access_key()?;
    meta.put_credential(&id, &secret, principal).await?;
    write_file(&path, &id, &secret)?;
    tracing::info!(file = %path.display(), access_key_id = %id, "created admin credentials; export AWS_SHARED_CREDENTIALS_FILE to use them");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_default_profile_only() {
        let t = "[other]\naws_access_key_id = X\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s/e+c\n";
        assert_eq!(parse_ini(t), Some(("AKIA1".into(), "s/e+c".into())));
        assert_eq!(parse_ini("[default]\naws_access_key_id=A\n"), None);
    }
}
