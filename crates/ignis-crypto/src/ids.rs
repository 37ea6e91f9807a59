//! Random identifiers: access keys, secrets, revision ids, request ids.

use crate::{random_array, CryptoError};

const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn pick(alphabet: &[u8], bytes: &[u8]) -> String {
    // Both alphabets have a power-of-two length, so masking keeps the choice uniform.
    let mask = alphabet.len() - 1;
    bytes
        .iter()
        .map(|b| alphabet[(*b as usize) & mask] as char)
        .collect()
}

/// A new access key id shaped like AWS's long-term keys: `AKIA` + 16 base32 characters.
pub fn access_key_id() -> Result<String, CryptoError> {
    Ok(format!(
        "AKIA{}",
        pick(KEY_ID_ALPHABET, &random_array::<16>()?)
    ))
}

/// A new 40-character secret access key.
pub fn secret_access_key() -> Result<String, CryptoError> {
    Ok(pick(SECRET_ALPHABET, &random_array::<40>()?))
}

/// A random UUID v4 string (request ids, revision ids).
pub fn uuid_v4() -> Result<String, CryptoError> {
    let mut b = random_array::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let k = access_key_id().unwrap();
        assert!(k.starts_with("AKIA") && k.len() == 20);
        assert!(k
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        let s = secret_access_key().unwrap();
        assert_eq!(s.len(), 40);
        assert_ne!(s, secret_access_key().unwrap());
        let u = uuid_v4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
