//! Deployment packages: decode the `ZipFile` blob, check it is a safe zip within Lambda's limits,
//! and store it encrypted once per digest.

use std::io::Cursor;

use base64::Engine;
use ignis_core::{AwsError, AwsResult, ErrorKind};
use serde::Deserialize;

use crate::state::AppState;

/// Largest zip accepted by direct upload (50 MB).
pub const MAX_ZIPPED_BYTES: usize = 52_428_800;
/// Largest unzipped size of function code plus layers (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// Most entries accepted in one archive (a zip bomb of empty files is still a bomb).
const MAX_ENTRIES: usize = 100_000;

/// `FunctionCode` / `LayerVersionContentInput` / the code part of `UpdateFunctionCodeRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeSource {
    /// Base64 zip.
    pub zip_file: Option<String>,
    /// Object store bucket.
    pub s3_bucket: Option<String>,
    /// Object store key.
    pub s3_key: Option<String>,
    /// Object store version.
    pub s3_object_version: Option<String>,
    /// Container image.
    pub image_uri: Option<String>,
}

/// A checked, stored package.
#[derive(Debug, Clone)]
pub struct StoredCode {
    /// Hex SHA-256 (the artifact key).
    pub digest_hex: String,
    /// Base64 SHA-256 (`CodeSha256`).
    pub sha256_b64: String,
    /// Zip size.
    pub size: u64,
    /// Sum of uncompressed entry sizes.
    pub unzipped: u64,
}

/// Decode, check and store the zip of `src`. `what` names the parameter in messages.
pub async fn store_zip(state: &AppState, src: &CodeSource) -> AwsResult<StoredCode> {
    if src.image_uri.is_some() {
        return Err(AwsError::invalid(
            "Container images are not supported by this server yet; deploy a .zip file archive.",
        ));
    }
    if src.s3_bucket.is_some() || src.s3_key.is_some() || src.s3_object_version.is_some() {
        return Err(AwsError::invalid(
            "Code from an S3 bucket is not supported by this server yet; upload the .zip file directly with ZipFile.",
        ));
    }
    let Some(b64) = &src.zip_file else {
        return Err(AwsError::invalid(
            "Please provide a source for function code.",
        ));
    };
    let zip = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| {
            AwsError::new(
                ErrorKind::InvalidRequestContent,
                "Could not parse request body into json: ZipFile is not valid base64",
            )
        })?;
    if zip.len() > MAX_ZIPPED_BYTES {
        return Err(AwsError::new(
            ErrorKind::RequestEntityTooLarge,
            format!("Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"),
        ));
    }
    let unzipped = inspect_zip(&zip)?;
    let digest = ignis_crypto::sha256(&zip);
    let digest_hex = hex::encode(digest);
    state.artifacts.put(&digest_hex, &zip).await.map_err(|e| {
        tracing::error!(error = %e, "artifact write failed");
        AwsError::internal()
    })?;
    Ok(StoredCode {
        sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest),
        digest_hex,
        size: zip.len() as u64,
        unzipped,
    })
}

/// Check that `zip` is a readable archive with only safe relative paths; return its unzipped size.
pub fn inspect_zip(zip: &[u8]) -> AwsResult<u64> {
    let unreadable = || {
        AwsError::invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        )
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| unreadable())?;
    if archive.len() > MAX_ENTRIES {
        return Err(AwsError::invalid(format!(
            "Zip file has more than {MAX_ENTRIES} entries"
        )));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| unreadable())?;
        let name = entry.name().to_string();
        let unsafe_path = entry.enclosed_name().is_none()
            || name.starts_with('/')
            || name.split(['/', '\\']).any(|seg| seg == "..");
        if unsafe_path {
            return Err(AwsError::invalid(format!(
                "Zip file contains an entry with an unsafe path: {name}"
            )));
        }
        total = total.saturating_add(entry.size());
        if total > MAX_UNZIPPED_BYTES {
            return Err(AwsError::invalid(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )));
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn accepts_normal_zip_and_counts_size() {
        let z = make_zip(&[
            ("app.py", b"def handler(e, c):\n  return 1\n"),
            ("lib/x.py", b"x"),
        ]);
        assert_eq!(inspect_zip(&z).unwrap(), 31);
    }

    #[test]
    fn rejects_garbage_and_traversal() {
        assert_eq!(
            inspect_zip(b"not a zip").unwrap_err().kind,
            ErrorKind::InvalidParameterValue
        );
        for bad in ["../evil", "/etc/passwd", "a/../../b"] {
            let z = make_zip(&[(bad, b"x")]);
            let e = inspect_zip(&z).unwrap_err();
            assert!(e.message.contains("unsafe path"), "{bad}: {e}");
        }
    }
}
