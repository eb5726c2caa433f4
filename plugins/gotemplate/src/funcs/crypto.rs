//! Sprig's deterministic crypto: hashes (`sha1sum`, `sha256sum`,
//! `sha512sum`, `adler32sum`), Master Password's `derivePassword`,
//! AES-256-CBC `encryptAES`/`decryptAES`, bcrypt `bcrypt`/`htpasswd` and
//! Ed25519 `genPrivateKey` (IVs, salts and keys from the seeded random
//! source). RSA/ECDSA keys and certificates are not available.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::sprig::{base64_decode, base64_encode};
use super::{FuncMap, arg_int, arg_str, call_err, s};
use crate::value::Value;

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("sha1sum", 1, Some(1), |_, a| {
        s(hex(&Sha1::digest(arg_str(&a, 0)?.as_bytes())))
    });
    m.insert("sha256sum", 1, Some(1), |_, a| {
        s(hex(&Sha256::digest(arg_str(&a, 0)?.as_bytes())))
    });
    m.insert("sha512sum", 1, Some(1), |_, a| {
        s(hex(&Sha512::digest(arg_str(&a, 0)?.as_bytes())))
    });
    m.insert("adler32sum", 1, Some(1), |_, a| {
        s(adler32(arg_str(&a, 0)?.as_bytes()).to_string())
    });
    m.insert("derivePassword", 5, Some(5), |_, a| {
        let counter = match &a[0] {
            Value::Int(i) if *i >= 0 && *i <= i64::from(u32::MAX) => *i as u32,
            Value::Uint(u) if *u <= u64::from(u32::MAX) => *u as u32,
            other => {
                return Err(super::FuncError::Arg(format!(
                    "wrong type for value; expected uint32; got {}",
                    other.type_name()
                )));
            }
        };
        s(derive_password(
            counter,
            arg_str(&a, 1)?,
            arg_str(&a, 2)?,
            arg_str(&a, 3)?,
            arg_str(&a, 4)?,
        ))
    });
    m.insert("encryptAES", 2, Some(2), |c, a| {
        let (password, plain) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        if plain.is_empty() {
            return s("");
        }
        let mut iv = [0u8; 16];
        for chunk in iv.chunks_mut(8) {
            chunk.copy_from_slice(&c.next_u64().to_le_bytes());
        }
        s(base64_encode(&encrypt_aes(password, plain.as_bytes(), iv)))
    });
    m.insert("decryptAES", 2, Some(2), |_, a| {
        let (password, crypt64) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        if crypt64.is_empty() {
            return s("");
        }
        let data = base64_decode(crypt64).map_err(call_err)?;
        decrypt_aes(password, &data)
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("bcrypt", 1, Some(1), |c, a| {
        let input = arg_str(&a, 0)?.to_string();
        s(bcrypt_hash(c, &input))
    });
    m.insert("htpasswd", 2, Some(2), |c, a| {
        let user = arg_str(&a, 0)?.to_string();
        let password = arg_str(&a, 1)?.to_string();
        if user.contains(':') {
            return s(format!("invalid username: {user}"));
        }
        s(format!("{user}:{}", bcrypt_hash(c, &password)))
    });
    m.insert("genPrivateKey", 1, Some(1), |c, a| {
        let typ = arg_str(&a, 0)?.to_string();
        match typ.as_str() {
            "ed25519" => {
                // PKCS#8 for Ed25519 is a fixed header followed by the seed.
                let mut der = vec![
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                for _ in 0..4 {
                    der.extend_from_slice(&c.next_u64().to_le_bytes());
                }
                s(pem("PRIVATE KEY", &der))
            }
            "" | "rsa" | "dsa" | "ecdsa" => Err(call_err(format!(
                "{} key generation is not supported by manifold's template engine; use genPrivateKey \"ed25519\" or generate the key outside the chart",
                if typ.is_empty() { "rsa" } else { typ.as_str() }
            ))),
            other => s(format!("Unknown type {other}")),
        }
    });
    for name in [
        "buildCustomCert",
        "genCA",
        "genCAWithKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
    ] {
        m.insert(name, 0, None, |_, _| {
            Err(call_err(
                "key and certificate generation is not supported by manifold's template engine; generate the secret outside the chart",
            ))
        });
    }
    let _ = arg_int;
    m
}

/// Go's bcrypt.GenerateFromPassword at the default cost 10 (`$2a$`), with
/// the salt drawn from the execution's seeded random source.
fn bcrypt_hash(c: &mut crate::exec::Ctx<'_, '_>, password: &str) -> String {
    let mut salt = [0u8; 16];
    for chunk in salt.chunks_mut(8) {
        chunk.copy_from_slice(&c.next_u64().to_le_bytes());
    }
    // Go's bcrypt rejects passwords over 72 bytes; Sprig then prints the error.
    if password.len() > 72 {
        return "bcrypt: password length exceeds 72 bytes".to_string();
    }
    match bcrypt::hash_with_salt(password, 10, salt) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// PEM armour as Go's pem.EncodeToMemory writes it (64-column lines).
fn pem(kind: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

const SEED: &str = "com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: char) -> &'static str {
    match c {
        'V' => "AEIOU",
        'C' => "BCDFGHJKLMNPQRSTVWXYZ",
        'v' => "aeiou",
        'c' => "bcdfghjklmnpqrstvwxyz",
        'A' => "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        'a' => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        'n' => "0123456789",
        'o' => "@&%?,=[]_:-+*$#!'^~;()/.",
        _ => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The Master Password algorithm: scrypt(password, seed+user) keys an
/// HMAC-SHA256 of seed+site+counter whose bytes pick a template and characters.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(tpls) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&key) else {
        return "failed to derive password: bad key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let first = usize::from(seed.first().copied().unwrap_or(0));
    let Some(tpl) = tpls.get(first % tpls.len()) else {
        return String::new();
    };
    let mut out = String::new();
    for (i, c) in tpl.chars().enumerate() {
        let chars = template_chars(c).as_bytes();
        let pick = usize::from(seed.get(i + 1).copied().unwrap_or(0)) % chars.len();
        out.push(chars.get(pick).copied().unwrap_or(b'a') as char);
    }
    out
}

fn aes_key(password: &str) -> aes::Aes256 {
    let mut key = [0u8; 32];
    for (k, b) in key.iter_mut().zip(password.bytes()) {
        *k = b;
    }
    aes::Aes256::new(GenericArray::from_slice(&key))
}

fn encrypt_aes(password: &str, plain: &[u8], iv: [u8; 16]) -> Vec<u8> {
    let cipher = aes_key(password);
    let pad = 16 - plain.len() % 16;
    let mut content = plain.to_vec();
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = iv.to_vec();
    let mut prev = iv;
    for chunk in content.chunks(16) {
        let mut block = [0u8; 16];
        for (i, b) in block.iter_mut().enumerate() {
            *b = chunk.get(i).copied().unwrap_or(0) ^ prev[i];
        }
        let mut ga = GenericArray::from(block);
        cipher.encrypt_block(&mut ga);
        prev.copy_from_slice(&ga);
        out.extend_from_slice(&ga);
    }
    out
}

fn decrypt_aes(password: &str, data: &[u8]) -> Result<String, String> {
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let cipher = aes_key(password);
    let (iv, body) = data.split_at(16);
    let mut prev = [0u8; 16];
    prev.copy_from_slice(iv);
    let mut out = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let mut ga = GenericArray::clone_from_slice(chunk);
        cipher.decrypt_block(&mut ga);
        for (i, b) in ga.iter().enumerate() {
            out.push(b ^ prev[i]);
        }
        prev.copy_from_slice(chunk);
    }
    let pad = usize::from(out.last().copied().unwrap_or(0));
    if pad == 0 || pad > out.len() {
        return Err("invalid padding".into());
    }
    out.truncate(out.len() - pad);
    Ok(String::from_utf8_lossy(&out).into_owned())
}
