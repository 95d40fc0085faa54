//! V1 "RPC" signature: HMAC-SHA1 over the canonicalized parameters (docs/COMPATIBILITY.md#v1-signatures).
//!
//! Pure functions: the caller passes the decoded, merged parameters of docs/COMPATIBILITY.md#parameters.

use base64::prelude::{BASE64_STANDARD, Engine as _};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The parameter that carries the signature and is therefore not signed itself.
pub const SIGNATURE_PARAM: &str = "Signature";

/// Percent-encodes UTF-8 bytes, keeping only `A–Z a–z 0–9 - _ . ~` (docs/COMPATIBILITY.md#v1-signatures step 3):
/// space → `%20`, `*` → `%2A`, `~` stays, hex digits upper case.
pub fn percent_encode(input: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(input.len());
    for &byte in input.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    encoded
}

/// The canonicalized query string (docs/COMPATIBILITY.md#v1-signatures steps 1–4): pairs sorted by name as bytes,
/// `Signature` left out, empty values kept, names and values percent-encoded.
pub fn canonical_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut signed: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, _)| *name != SIGNATURE_PARAM)
        .collect();
    // Byte order is `str`'s order; the value breaks ties so the result never depends on
    // input order (the merged map has unique names, so ties do not arise in practice).
    signed.sort_unstable();
    signed
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&percentEncode(CQS)` (docs/COMPATIBILITY.md#v1-signatures step 5); `method` is upper-cased.
pub fn string_to_sign<'a>(
    method: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))` (docs/COMPATIBILITY.md#v1-signatures steps 6–7).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    BASE64_STANDARD.encode(mac(secret, string_to_sign).finalize().into_bytes())
}

/// Compares `signature` (form-decoded, base64) with the expected one in constant time
/// (docs/COMPATIBILITY.md#v1-signatures step 8). A signature that is not base64 does not match.
pub fn verify(secret: &str, string_to_sign: &str, signature: &str) -> bool {
    let Ok(given) = BASE64_STANDARD.decode(signature) else {
        return false;
    };
    mac(secret, string_to_sign).verify_slice(&given).is_ok()
}

fn mac(secret: &str, string_to_sign: &str) -> HmacSha1 {
    let key = format!("{secret}&");
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// Signing test vector A (GET DescribeExecution as the new Python SDK sends it), decoded;
/// shared by the unit tests of the signer and of the gate.
#[cfg(test)]
pub(crate) mod vector_a {
    pub const PARAMS: [(&str, &str); 10] = [
        ("AccessKeyId", "testid"),
        ("Action", "DescribeExecution"),
        ("ExecutionName", "exec1"),
        ("FlowName", "my_flow"),
        ("Format", "json"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2024-05-01T12:00:00Z"),
        ("Version", "2019-03-15"),
    ];
    pub const SIGNATURE: &str = "uOXlWXG5LtpREThTqTTssgtZ1tc=";
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "testsecret";

    const VECTOR_A_CQS: &str = "AccessKeyId=testid&Action=DescribeExecution&ExecutionName=exec1&FlowName=my_flow&Format=json&SignatureMethod=HMAC-SHA1&SignatureNonce=3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b&SignatureVersion=1.0&Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
    const VECTOR_A_STS: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeExecution%26ExecutionName%3Dexec1%26FlowName%3Dmy_flow%26Format%3Djson%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b%26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D2019-03-15";

    // Signing test vector B: POST StartExecution as the old Python SDK sends it (query and
    // body decoded and merged, in no particular order).
    const VECTOR_B_PARAMS: [(&str, &str); 13] = [
        ("FlowName", "my_flow"),
        ("ExecutionName", "run-1_a"),
        ("Input", "{\"msg\": \"héllo wörld * ~ /+\"}"),
        ("AccessKeyId", "testid"),
        ("Action", "StartExecution"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "c0ffee00c0ffee00c0ffee00c0ffee00"),
        ("SignatureType", ""),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2024-05-01T12:00:00Z"),
        ("Version", "2019-03-15"),
    ];
    const VECTOR_B_CQS: &str = "AccessKeyId=testid&Action=StartExecution&ExecutionName=run-1_a&FlowName=my_flow&Format=JSON&Input=%7B%22msg%22%3A%20%22h%C3%A9llo%20w%C3%B6rld%20%2A%20~%20%2F%2B%22%7D&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=c0ffee00c0ffee00c0ffee00c0ffee00&SignatureType=&SignatureVersion=1.0&Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
    const VECTOR_B_STS: &str = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DStartExecution%26ExecutionName%3Drun-1_a%26FlowName%3Dmy_flow%26Format%3DJSON%26Input%3D%257B%2522msg%2522%253A%2520%2522h%25C3%25A9llo%2520w%25C3%25B6rld%2520%252A%2520~%2520%252F%252B%2522%257D%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dc0ffee00c0ffee00c0ffee00c0ffee00%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D2019-03-15";
    const VECTOR_B_SIGNATURE: &str = "hfEumGf/QpTzKpYXsd5zT4K1QLE=";

    #[test]
    fn vector_a_byte_exact() {
        assert_eq!(canonical_query(vector_a::PARAMS), VECTOR_A_CQS);
        let sts = string_to_sign("GET", vector_a::PARAMS);
        assert_eq!(sts, VECTOR_A_STS);
        assert_eq!(sign(SECRET, &sts), vector_a::SIGNATURE);
        assert!(verify(SECRET, &sts, vector_a::SIGNATURE));
    }

    #[test]
    fn vector_b_byte_exact() {
        assert_eq!(canonical_query(VECTOR_B_PARAMS), VECTOR_B_CQS);
        let sts = string_to_sign("POST", VECTOR_B_PARAMS);
        assert_eq!(sts, VECTOR_B_STS);
        assert_eq!(sign(SECRET, &sts), VECTOR_B_SIGNATURE);
        assert!(verify(SECRET, &sts, VECTOR_B_SIGNATURE));
    }

    #[test]
    fn wrong_secret_or_altered_parameters_fail() {
        let sts = string_to_sign("GET", vector_a::PARAMS);
        assert!(!verify("othersecret", &sts, vector_a::SIGNATURE));
        assert!(!verify(
            SECRET,
            &string_to_sign("POST", vector_a::PARAMS),
            vector_a::SIGNATURE
        ));
        let altered = vector_a::PARAMS.map(|(name, value)| match name {
            "ExecutionName" => (name, "exec2"),
            _ => (name, value),
        });
        assert!(!verify(
            SECRET,
            &string_to_sign("GET", altered),
            vector_a::SIGNATURE
        ));
    }

    #[test]
    fn malformed_signatures_do_not_match() {
        let sts = VECTOR_A_STS;
        for bad in [
            "",
            "not base64!",
            "uOXlWXG5LtpREThTqTTssgtZ1tc",
            "uOXlWXG5LtpREThTqTTssgtZ1tc=AA==",
        ] {
            assert!(!verify(SECRET, sts, bad), "{bad:?}");
        }
        // A valid base64 prefix of the right MAC is still a mismatch.
        assert!(!verify(SECRET, sts, "uOXlWXG5LtpREThTqTTssg=="));
    }

    #[test]
    fn signature_parameter_is_excluded() {
        let with = vector_a::PARAMS
            .into_iter()
            .chain([("Signature", "abc=")])
            .collect::<Vec<_>>();
        assert_eq!(
            string_to_sign("GET", with.iter().copied()),
            string_to_sign("GET", vector_a::PARAMS)
        );
        assert!(!canonical_query(with).contains("Signature="));
    }

    #[test]
    fn empty_valued_parameter_is_signed() {
        let params = [("B", ""), ("A", "1")];
        assert_eq!(canonical_query(params), "A=1&B=");
        let without_b = [("A", "1")];
        assert_ne!(
            sign(SECRET, &string_to_sign("GET", params)),
            sign(SECRET, &string_to_sign("GET", without_b))
        );
    }

    #[test]
    fn percent_encoding_rules() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("/:+=&%"), "%2F%3A%2B%3D%26%25");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn method_is_upper_cased() {
        assert_eq!(string_to_sign("get", [("A", "1")]), "GET&%2F&A%3D1");
    }
}
